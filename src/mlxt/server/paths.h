// Confining file paths named in requests to the server's data roots.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace mlxt::server {

//! The canonical form of `requested` (relative paths are taken from
//! roots[0]) when it lies inside one of `roots` (canonical folders) after
//! resolving "..", "." and symbolic links; HttpError 403 naming `key`
//! otherwise, and 400 for an empty path or one containing a NUL byte.
std::filesystem::path
confine_path(const std::string& requested,
             const std::vector<std::filesystem::path>& roots,
             const std::string& key);

} // namespace mlxt::server
