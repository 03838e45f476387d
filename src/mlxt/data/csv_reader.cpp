// CSV as RFC 4180 writes it: a header row names the columns; fields are
// separated by commas; a quoted field may hold commas, line breaks and
// doubled quotes (""). Each record becomes {column: string}. Records are
// read in bounded memory (one record at a time, at most max_line_bytes).
#include <algorithm>

#include "mlxt/core/error.h"
#include "mlxt/data/readers.h"

namespace mlxt::data::detail {

namespace {

class CsvSource : public RowSource {
public:
  CsvSource(std::unique_ptr<ByteStream> stream, const ReadOptions& options)
      : RowSource(stream->file()), stream_(std::move(stream)),
        max_record_bytes_(options.max_line_bytes),
        chunk_(std::min<size_t>(size_t(1) << 20, options.max_line_bytes + 1)) {
    std::vector<std::string> fields;
    std::string problem;
    if (!read_record(fields, problem)) {
      return; // an empty file: no header, no rows
    }
    if (!problem.empty()) {
      fail(ErrorCode::invalid_data,
           "the header row: " + problem,
           {.file = file_, .line = record_line_});
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].empty()) {
        fail(ErrorCode::invalid_data,
             "column " + std::to_string(i + 1) + " of the header has no name",
             {.file = file_, .line = record_line_});
      }
    }
    header_ = std::move(fields);
    header_end_ = {offset_, 0, line_ - 1};
  }

  std::optional<SourceRow> next() override {
    std::vector<std::string> fields;
    std::string problem;
    while (read_record(fields, problem)) {
      if (fields.size() == 1 && fields[0].empty() && problem.empty()) {
        continue; // a blank line
      }
      SourceRow row;
      row.row = ++rows_;
      row.line = record_line_;
      row.problem = problem;
      if (row.problem.empty() && fields.size() != header_.size()) {
        row.problem = "ragged row: " + std::to_string(fields.size()) +
                      " fields, but the header has " +
                      std::to_string(header_.size()) + " columns";
      }
      for (size_t i = 0; row.problem.empty() && i < fields.size(); ++i) {
        std::string bad = utf8_problem(fields[i]);
        if (!bad.empty()) {
          row.problem = "column \"" + header_[i] + "\": " + bad;
        }
      }
      if (row.problem.empty()) {
        row.value = nlohmann::json::object();
        for (size_t i = 0; i < fields.size(); ++i) {
          row.value[header_[i]] = std::move(fields[i]);
        }
      }
      return row;
    }
    return std::nullopt;
  }

  Cursor cursor() const override { return {offset_, rows_, line_ - 1}; }
  void seek(const Cursor& c) override {
    const Cursor at = c.offset == 0 ? header_end_ : c;
    stream_->seek(at.offset);
    buffer_.clear();
    pos_ = 0;
    eof_ = false;
    offset_ = at.offset;
    line_ = at.line + 1;
    rows_ = at.row;
  }
  FileKind kind() const override { return FileKind::csv; }

private:
  // The next byte, or -1 at the end.
  int get() {
    if (pos_ == buffer_.size()) {
      if (eof_) {
        return -1;
      }
      buffer_.resize(chunk_);
      buffer_.resize(stream_->read(buffer_.data(), chunk_));
      pos_ = 0;
      if (buffer_.empty()) {
        eof_ = true;
        return -1;
      }
    }
    ++offset_;
    return static_cast<unsigned char>(buffer_[pos_++]);
  }
  int peek() {
    int c = get();
    if (c >= 0) {
      --pos_;
      --offset_;
    }
    return c;
  }

  // Reads one record into `fields`; false at the end of the file. Sets
  // `problem` for a record that is readable but malformed.
  bool read_record(std::vector<std::string>& fields, std::string& problem) {
    fields.clear();
    problem.clear();
    record_line_ = line_;
    if (offset_ == 0 && peek() == 0xEF) {
      // A UTF-8 byte-order mark, as spreadsheet exports write.
      get();
      if (get() != 0xBB || get() != 0xBF) {
        problem = "ill-formed bytes at the start of the file";
      }
    }
    int c = peek();
    if (c < 0) {
      return false;
    }
    size_t bytes = 0;
    std::string field;
    while (true) {
      c = get();
      if (++bytes > max_record_bytes_) {
        fail(ErrorCode::invalid_data,
             "the record is longer than the limit of " +
                 std::to_string(max_record_bytes_ >> 20) +
                 " MiB (max_line_bytes)",
             {.file = file_, .line = record_line_});
      }
      if (c == '"' && field.empty() && !quoted_field_seen_) {
        read_quoted(field, bytes);
        quoted_field_seen_ = true;
        continue;
      }
      if (c == ',') {
        fields.push_back(std::move(field));
        field.clear();
        quoted_field_seen_ = false;
        continue;
      }
      if (c < 0 || c == '\n' || c == '\r') {
        if (c == '\r' && peek() == '\n') {
          get();
        }
        if (c >= 0) {
          ++line_;
        }
        fields.push_back(std::move(field));
        quoted_field_seen_ = false;
        return true;
      }
      if (quoted_field_seen_ && problem.empty()) {
        problem = "unexpected character after the closing quote of field " +
                  std::to_string(fields.size() + 1) +
                  " (a quote inside a quoted field is written \"\")";
      }
      field.push_back(static_cast<char>(c));
    }
  }

  // After an opening quote: up to the closing quote; "" is one quote.
  void read_quoted(std::string& field, size_t& bytes) {
    const long opened = line_;
    while (true) {
      int c = get();
      if (++bytes > max_record_bytes_) {
        fail(ErrorCode::invalid_data,
             "the quoted field opened here is longer than the limit of " +
                 std::to_string(max_record_bytes_ >> 20) +
                 " MiB (max_line_bytes); is a closing quote missing?",
             {.file = file_, .line = opened});
      }
      if (c < 0) {
        fail(ErrorCode::invalid_data,
             "unclosed quote: the quoted field opened on this line never "
             "ends",
             {.file = file_, .line = opened});
      }
      if (c == '"') {
        if (peek() == '"') {
          get();
          field.push_back('"');
          continue;
        }
        return;
      }
      if (c == '\n') {
        ++line_;
      }
      field.push_back(static_cast<char>(c));
    }
  }

  std::unique_ptr<ByteStream> stream_;
  size_t max_record_bytes_;
  size_t chunk_; // bytes per read
  std::string buffer_;
  size_t pos_ = 0;
  bool eof_ = false;
  uint64_t offset_ = 0; // file offset of the next byte get() returns
  long line_ = 1;       // line of the next byte
  long record_line_ = 1;
  long rows_ = 0;
  bool quoted_field_seen_ = false;
  std::vector<std::string> header_;
  Cursor header_end_;
};

} // namespace

std::unique_ptr<RowSource> open_csv(std::unique_ptr<ByteStream> stream,
                                    const ReadOptions& options) {
  return std::make_unique<CsvSource>(std::move(stream), options);
}

} // namespace mlxt::data::detail
