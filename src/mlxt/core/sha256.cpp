#include "mlxt/core/sha256.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include <openssl/evp.h>

#include "mlxt/core/error.h"

namespace mlxt {

namespace {

class Digest {
public:
  explicit Digest(const EVP_MD* md) : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), md, nullptr) != 1) {
      fail(ErrorCode::internal, "OpenSSL could not start a digest");
    }
  }
  void add(const char* data, size_t size) {
    EVP_DigestUpdate(ctx_.get(), data, size);
  }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest, &size);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
      out += digits[digest[i] >> 4];
      out += digits[digest[i] & 15];
    }
    return out;
  }

private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

// The digest of `prefix` followed by the contents of `file`.
std::string file_digest_hex(const std::filesystem::path& file,
                            const EVP_MD* md,
                            std::string_view prefix) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    fail(ErrorCode::io,
         std::string("cannot read: ") + std::strerror(errno),
         {.file = file.string()});
  }
  Digest digest(md);
  digest.add(prefix.data(), prefix.size());
  std::vector<char> block(1 << 20);
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    digest.add(block.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) {
    fail(ErrorCode::io, "read failed", {.file = file.string()});
  }
  return digest.hex();
}

} // namespace

std::string sha256_hex(std::string_view bytes) {
  Digest digest(EVP_sha256());
  digest.add(bytes.data(), bytes.size());
  return digest.hex();
}

std::string sha256_file_hex(const std::filesystem::path& file) {
  return file_digest_hex(file, EVP_sha256(), "");
}

std::string git_blob_sha1_file_hex(const std::filesystem::path& file) {
  // git hashes "blob <size>\0" followed by the contents.
  const std::string header = "blob " +
                             std::to_string(std::filesystem::file_size(file)) +
                             std::string(1, '\0');
  return file_digest_hex(file, EVP_sha1(), header);
}

} // namespace mlxt
