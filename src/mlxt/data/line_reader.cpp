#include "mlxt/data/line_reader.h"

#include <algorithm>
#include <cstring>

#include "mlxt/core/error.h"
#include "mlxt/data/readers.h"

namespace mlxt::data {

LineReader::LineReader(std::unique_ptr<ByteStream> stream,
                       size_t max_line_bytes)
    : stream_(std::move(stream)), max_line_bytes_(max_line_bytes),
      // Reads of 1 MiB, or less when lines are limited to less.
      chunk_(std::min<size_t>(size_t(1) << 20, max_line_bytes + 1)) {}

bool LineReader::fill() {
  if (eof_) {
    return false;
  }
  if (pos_ > 0) {
    buffer_.erase(0, pos_);
    base_ += pos_;
    pos_ = 0;
  }
  const size_t old = buffer_.size();
  buffer_.resize(old + chunk_);
  const size_t got = stream_->read(buffer_.data() + old, chunk_);
  buffer_.resize(old + got);
  eof_ = got == 0;
  return got > 0;
}

bool LineReader::next(std::string_view& line) {
  size_t scanned = 0; // bytes after pos_ known to hold no newline
  while (true) {
    const char* start = buffer_.data() + pos_ + scanned;
    const size_t avail = buffer_.size() - pos_ - scanned;
    const void* nl = avail ? std::memchr(start, '\n', avail) : nullptr;
    if (nl != nullptr) {
      const size_t end = static_cast<const char*>(nl) - buffer_.data();
      line_offset_ = base_ + pos_;
      ++line_number_;
      size_t len = end - pos_;
      if (len > max_line_bytes_) {
        break;
      }
      if (len > 0 && buffer_[end - 1] == '\r') {
        --len;
      }
      line = std::string_view(buffer_.data() + pos_, len);
      pos_ = end + 1;
      return true;
    }
    scanned = buffer_.size() - pos_;
    if (scanned > max_line_bytes_) {
      line_offset_ = base_ + pos_;
      ++line_number_;
      break;
    }
    if (!fill()) {
      if (buffer_.size() == pos_) {
        return false;
      }
      // The last line has no newline.
      line_offset_ = base_ + pos_;
      ++line_number_;
      if (buffer_.size() - pos_ > max_line_bytes_) {
        break;
      }
      line = std::string_view(buffer_.data() + pos_, buffer_.size() - pos_);
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      pos_ = buffer_.size();
      return true;
    }
  }
  fail(ErrorCode::invalid_data,
       "the line is longer than the limit of " +
           std::to_string(max_line_bytes_ >> 20) +
           " MiB (max_line_bytes); is this a text file with line breaks?",
       {.file = stream_->file(), .line = line_number_});
}

void LineReader::seek(uint64_t offset, long line_number) {
  stream_->seek(offset);
  buffer_.clear();
  pos_ = 0;
  base_ = offset;
  eof_ = false;
  line_number_ = line_number;
}

namespace detail {

namespace {

class LineRowSource final : public RowSource {
public:
  LineRowSource(std::unique_ptr<ByteStream> stream,
                const ReadOptions& options,
                FileKind kind,
                LineParser parse)
      : RowSource(stream->file()),
        lines_(std::move(stream), options.max_line_bytes), kind_(kind),
        parse_(std::move(parse)) {}

  std::optional<SourceRow> next() override {
    std::string_view line;
    while (lines_.next(line)) {
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
        continue;
      }
      SourceRow row;
      row.row = ++rows_;
      row.line = lines_.line_number();
      parse_(line, row);
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
  FileKind kind() const override { return kind_; }

private:
  LineReader lines_;
  FileKind kind_;
  LineParser parse_;
  long rows_ = 0;
};

} // namespace

std::unique_ptr<RowSource> open_line_rows(std::unique_ptr<ByteStream> stream,
                                          const ReadOptions& options,
                                          FileKind kind,
                                          LineParser parse) {
  return std::make_unique<LineRowSource>(
      std::move(stream), options, kind, std::move(parse));
}

} // namespace detail

} // namespace mlxt::data
