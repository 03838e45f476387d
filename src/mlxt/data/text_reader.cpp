// Plain text: each non-blank line is one row {text_key: line}.
#include "mlxt/data/line_reader.h"
#include "mlxt/data/readers.h"

namespace mlxt::data::detail {

namespace {

class TextSource : public RowSource {
public:
  TextSource(std::unique_ptr<ByteStream> stream, const ReadOptions& options)
      : RowSource(stream->file()),
        lines_(std::move(stream), options.max_line_bytes),
        key_(options.text_key) {}

  std::optional<SourceRow> next() override {
    std::string_view line;
    while (lines_.next(line)) {
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
        continue;
      }
      SourceRow row;
      row.row = ++rows_;
      row.line = lines_.line_number();
      row.problem = utf8_problem(line);
      if (row.problem.empty()) {
        row.value = nlohmann::json::object({{key_, std::string(line)}});
      }
      return row;
    }
    return std::nullopt;
  }
  Cursor cursor() const override {
    return {lines_.next_offset(), rows_, lines_.line_number()};
  }
  void seek(const Cursor& c) override {
    lines_.seek(c.offset, c.line);
    rows_ = c.row;
  }
  FileKind kind() const override { return FileKind::text; }

private:
  LineReader lines_;
  std::string key_;
  long rows_ = 0;
};

} // namespace

std::unique_ptr<RowSource> open_text(std::unique_ptr<ByteStream> stream,
                                     const ReadOptions& options) {
  return std::make_unique<TextSource>(std::move(stream), options);
}

} // namespace mlxt::data::detail
