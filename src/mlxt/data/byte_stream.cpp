#include "mlxt/data/byte_stream.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <zlib.h>

#include "mlxt/core/error.h"

namespace mlxt::data {

namespace {

[[noreturn]] void io_error(const std::string& file, const std::string& what) {
  fail(ErrorCode::io, what + ": " + std::strerror(errno), {.file = file});
}

class PlainStream : public ByteStream {
public:
  PlainStream(std::string file, std::FILE* f)
      : ByteStream(std::move(file)), f_(f) {}
  ~PlainStream() override { std::fclose(f_); }
  size_t read(char* out, size_t n) override {
    size_t got = std::fread(out, 1, n, f_);
    if (got == 0 && std::ferror(f_)) {
      io_error(file_, "cannot read the file");
    }
    return got;
  }
  void seek(uint64_t offset) override {
    if (fseeko(f_, static_cast<off_t>(offset), SEEK_SET) != 0) {
      io_error(file_, "cannot seek to byte " + std::to_string(offset));
    }
  }
  bool compressed() const override { return false; }

private:
  std::FILE* f_;
};

class GzipStream : public ByteStream {
public:
  GzipStream(std::string file, gzFile f) : ByteStream(std::move(file)), f_(f) {
    gzbuffer(f_, 1 << 17);
  }
  ~GzipStream() override { gzclose(f_); }
  size_t read(char* out, size_t n) override {
    int got = gzread(f_, out, static_cast<unsigned>(n));
    if (got < 0) {
      int code = 0;
      fail(ErrorCode::invalid_data,
           std::string("corrupt gzip data: ") + gzerror(f_, &code),
           {.file = file_});
    }
    return static_cast<size_t>(got);
  }
  void seek(uint64_t offset) override {
    if (gzseek(f_, static_cast<z_off_t>(offset), SEEK_SET) < 0) {
      fail(ErrorCode::invalid_data,
           "cannot seek to uncompressed byte " + std::to_string(offset),
           {.file = file_});
    }
  }
  bool compressed() const override { return true; }

private:
  gzFile f_;
};

} // namespace

std::unique_ptr<ByteStream>
ByteStream::open(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::FILE* f = std::fopen(name.c_str(), "rb");
  if (f == nullptr) {
    if (errno == ENOENT) {
      fail(
          ErrorCode::not_found, "the data file does not exist", {.file = name});
    }
    io_error(name, "cannot open the data file");
  }
  unsigned char magic[2] = {0, 0};
  const size_t got = std::fread(magic, 1, 2, f);
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    std::fclose(f);
    gzFile gz = gzopen(name.c_str(), "rb");
    if (gz == nullptr) {
      io_error(name, "cannot open the gzip file");
    }
    return std::make_unique<GzipStream>(name, gz);
  }
  std::rewind(f);
  return std::make_unique<PlainStream>(name, f);
}

} // namespace mlxt::data
