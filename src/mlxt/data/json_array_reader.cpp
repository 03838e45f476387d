// JSON arrays of row objects ([{...}, {...}]), as Alpaca-style datasets ship.
// The file is read whole; a light scan splits the top-level array into its
// elements (so each row knows its line, and one bad element is one bad row),
// and each element is parsed on its own.
#include "mlxt/core/error.h"
#include "mlxt/data/readers.h"

namespace mlxt::data::detail {

namespace {

struct Span {
  size_t begin = 0;
  size_t end = 0;
  long line = 0;
};

class JsonArraySource : public RowSource {
public:
  JsonArraySource(std::unique_ptr<ByteStream> stream, const ReadOptions&)
      : RowSource(stream->file()) {
    std::string chunk(1 << 16, '\0');
    while (size_t got = stream->read(chunk.data(), chunk.size())) {
      text_.append(chunk.data(), got);
    }
    split();
  }

  std::optional<SourceRow> next() override {
    if (index_ >= spans_.size()) {
      return std::nullopt;
    }
    const Span& s = spans_[index_++];
    SourceRow row;
    row.row = static_cast<long>(index_);
    row.line = s.line;
    parse_json_row(std::string_view(text_).substr(s.begin, s.end - s.begin),
                   row);
    return row;
  }
  Cursor cursor() const override {
    const bool done = index_ >= spans_.size();
    return {done ? text_.size() : spans_[index_].begin,
            static_cast<long>(index_),
            done ? 0 : spans_[index_].line - 1};
  }
  void seek(const Cursor& c) override {
    index_ = std::min(static_cast<size_t>(std::max(c.row, 0L)), spans_.size());
  }
  FileKind kind() const override { return FileKind::json_array; }

private:
  [[noreturn]] void broken(const std::string& what, long line) {
    fail(ErrorCode::invalid_data,
         "invalid JSON array: " + what,
         {.file = file_, .line = line});
  }

  // Finds the top-level elements. Strings are skipped with their escapes so
  // brackets inside them do not count; everything else is left to the
  // element parser.
  void split() {
    long line = 1;
    size_t i = 0;
    auto skip_space = [&] {
      while (i < text_.size() && (text_[i] == ' ' || text_[i] == '\t' ||
                                  text_[i] == '\n' || text_[i] == '\r')) {
        line += text_[i] == '\n';
        ++i;
      }
    };
    if (text_.starts_with("\xEF\xBB\xBF")) {
      i = 3;
    }
    skip_space();
    if (i == text_.size()) {
      return; // an empty file
    }
    if (text_[i] != '[') {
      broken("expected '[' to open the array of rows, found '" +
                 std::string(1, text_[i]) + "'",
             line);
    }
    ++i;
    skip_space();
    if (i < text_.size() && text_[i] == ']') {
      ++i;
      skip_space();
      if (i != text_.size()) {
        broken("unexpected text after the closing ']'", line);
      }
      return;
    }
    while (true) {
      skip_space();
      Span span{i, i, line};
      int depth = 0;
      while (i < text_.size()) {
        const char c = text_[i];
        if (c == '"') {
          ++i;
          while (i < text_.size() && text_[i] != '"') {
            if (text_[i] == '\\') {
              ++i;
            }
            line += i < text_.size() && text_[i] == '\n';
            ++i;
          }
          if (i >= text_.size()) {
            broken("a string that starts in the row on this line never ends",
                   span.line);
          }
          ++i;
          continue;
        }
        if (depth == 0 && (c == ',' || c == ']')) {
          break;
        }
        if (c == '{' || c == '[') {
          ++depth;
        } else if ((c == '}' || c == ']') && --depth < 0) {
          broken("unbalanced '" + std::string(1, c) + "'", line);
        }
        line += c == '\n';
        ++i;
      }
      if (i >= text_.size()) {
        broken("the array is not closed with ']' (is the file truncated?)",
               span.line);
      }
      span.end = i;
      while (span.end > span.begin &&
             std::isspace(static_cast<unsigned char>(text_[span.end - 1]))) {
        --span.end;
      }
      if (span.end == span.begin) {
        broken("an empty element", line);
      }
      spans_.push_back(span);
      if (text_[i++] == ']') {
        break;
      }
    }
    skip_space();
    if (i != text_.size()) {
      broken("unexpected text after the closing ']'", line);
    }
  }

  std::string text_;
  std::vector<Span> spans_;
  size_t index_ = 0;
};

} // namespace

std::unique_ptr<RowSource> open_json_array(std::unique_ptr<ByteStream> stream,
                                           const ReadOptions& options) {
  return std::make_unique<JsonArraySource>(std::move(stream), options);
}

} // namespace mlxt::data::detail
