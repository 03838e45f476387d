// ByteStream: the bytes of one data file, read front to back, transparently
// gunzipped when the file starts with the gzip magic bytes. Offsets count
// uncompressed bytes, so a cursor means the same thing for `x.jsonl` and
// `x.jsonl.gz`. Knows nothing about rows or formats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace mlxt::data {

class ByteStream {
public:
  //! Opens `file`; throws Error(not_found) or Error(io).
  static std::unique_ptr<ByteStream> open(const std::filesystem::path& file);
  virtual ~ByteStream() = default;

  //! Reads up to `n` bytes into `out`; returns 0 only at the end.
  virtual size_t read(char* out, size_t n) = 0;
  //! Moves to uncompressed byte `offset` (a gzip stream decompresses up to
  //! it: zlib keeps no index, so that costs time, not memory).
  virtual void seek(uint64_t offset) = 0;
  virtual bool compressed() const = 0;
  const std::string& file() const { return file_; }

protected:
  explicit ByteStream(std::string file) : file_(std::move(file)) {}
  std::string file_;
};

} // namespace mlxt::data
