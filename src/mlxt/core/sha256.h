// SHA-256 digests (OpenSSL's libcrypto) as lowercase hex, for manifests and
// content fingerprints, and git's blob SHA-1 (what a model hub lists as the
// id of a small, non-LFS file).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace mlxt {

//! SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

//! SHA-256 of the contents of `file`, read in blocks. Error(io) naming the
//! file when it cannot be read.
std::string sha256_file_hex(const std::filesystem::path& file);

//! git's object id of `file` as a blob: SHA-1 of "blob <size>\0" and the
//! contents. Error(io) naming the file when it cannot be read.
std::string git_blob_sha1_file_hex(const std::filesystem::path& file);

} // namespace mlxt
