// LineReader: the lines of a ByteStream in bounded memory. A line longer than
// the limit ends the read with an error naming its line number, so a file
// without newlines cannot exhaust memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mlxt/data/byte_stream.h"

namespace mlxt::data {

class LineReader {
public:
  LineReader(std::unique_ptr<ByteStream> stream, size_t max_line_bytes);

  //! The next line without its "\n" (or "\r\n"); false at the end. The view
  //! stays valid until the next call.
  bool next(std::string_view& line);
  //! Byte offset where the line last returned starts.
  uint64_t line_offset() const { return line_offset_; }
  //! 1-based number of the line last returned.
  long line_number() const { return line_number_; }
  //! Offset of the next line to be returned.
  uint64_t next_offset() const { return base_ + pos_; }
  //! Continues at byte `offset`, which starts line `line_number` + 1.
  void seek(uint64_t offset, long line_number);
  const std::string& file() const { return stream_->file(); }

private:
  bool fill(); // appends bytes after compacting; false at the end

  std::unique_ptr<ByteStream> stream_;
  size_t max_line_bytes_;
  size_t chunk_; // bytes per read
  std::string buffer_;
  size_t pos_ = 0;    // start of unread bytes in buffer_
  uint64_t base_ = 0; // file offset of buffer_[0]
  uint64_t line_offset_ = 0;
  long line_number_ = 0;
  bool eof_ = false;
};

} // namespace mlxt::data
