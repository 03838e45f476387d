// JSON Lines: one JSON object per line; blank lines are skipped.
#include <nlohmann/json.hpp>

#include "mlxt/data/line_reader.h"
#include "mlxt/data/readers.h"
#include "mlxt/tokenizer/utf8.h"

namespace mlxt::data::detail {

std::string utf8_problem(std::string_view text) {
  auto bad = tokenizer::detail::find_invalid_utf8(text);
  if (!bad) {
    return "";
  }
  return "ill-formed UTF-8 at byte " + std::to_string(*bad + 1) +
         " of the row; re-encode the file as UTF-8";
}

void parse_json_row(std::string_view text, SourceRow& row) {
  row.problem = utf8_problem(text);
  if (!row.problem.empty()) {
    return;
  }
  try {
    row.value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    row.problem = std::string("invalid JSON: ") + e.what();
    row.value = nullptr;
    return;
  }
  if (!row.value.is_object()) {
    row.problem =
        std::string("expected a JSON object, got ") + row.value.type_name();
    row.value = nullptr;
  }
}

namespace {

class JsonlSource : public RowSource {
public:
  JsonlSource(std::unique_ptr<ByteStream> stream, const ReadOptions& options)
      : RowSource(stream->file()),
        lines_(std::move(stream), options.max_line_bytes) {}

  std::optional<SourceRow> next() override {
    std::string_view line;
    while (lines_.next(line)) {
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
        continue;
      }
      SourceRow row;
      row.row = ++rows_;
      row.line = lines_.line_number();
      parse_json_row(line, row);
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
  FileKind kind() const override { return FileKind::jsonl; }

private:
  LineReader lines_;
  long rows_ = 0;
};

} // namespace

std::unique_ptr<RowSource> open_jsonl(std::unique_ptr<ByteStream> stream,
                                      const ReadOptions& options) {
  return std::make_unique<JsonlSource>(std::move(stream), options);
}

} // namespace mlxt::data::detail
