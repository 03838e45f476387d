// Confining file paths named in requests to the server's data roots.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::server {

//! The canonical form of `requested` (relative paths are taken from
//! roots[0]) when it lies inside one of `roots` (canonical folders) after
//! resolving "..", "." and symbolic links; HttpError 403 naming `key`
//! otherwise, and 400 for an empty path or one containing a NUL byte.
std::filesystem::path
confine_path(const std::string& requested,
             const std::vector<std::filesystem::path>& roots,
             const std::string& key);

//! Removes from a training config the keys the server sets itself (every
//! run writes into its own run folder and the shared encoded-data cache, so
//! a request must not pick a folder to write into); returns the keys
//! removed.
std::vector<std::string> strip_server_owned_keys(nlohmann::json& config);

} // namespace mlxt::server
