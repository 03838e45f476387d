// Confining file paths named in requests to the server's data roots.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::server {

//! The canonical form of `requested` (relative paths are taken from
//! roots[0]) when it lies inside one of `roots` (canonical folders): "." and
//! ".." are removed lexically (a relative path climbing above roots[0] is
//! refused), then every symbolic link of the part that exists is followed,
//! also a link after a missing component. HttpError 403 naming `key` when
//! the result leaves the roots or a link cannot be resolved, 400 for an
//! empty path or one containing a NUL byte. Every route confines through it.
std::filesystem::path
confine_path(const std::string& requested,
             const std::vector<std::filesystem::path>& roots,
             const std::string& key);

//! confine_path for a file a request writes: also HttpError 403 when the
//! path is, or lies inside, one of `server_owned` (canonical: the job store
//! and its journal files, run folders), so no request replaces them.
std::filesystem::path
confine_output_path(const std::string& requested,
                    const std::vector<std::filesystem::path>& roots,
                    const std::vector<std::filesystem::path>& server_owned,
                    const std::string& key);

//! confine_path for a reward_model folder, and for the base model its
//! adapter_config.json names as `model` when it is a LoRA reward model (the
//! trainer opens that base too), which must lie inside the roots as well
//! (HttpError 403 naming `key`'s adapter_config.json).
std::filesystem::path
confine_reward_model(const std::string& requested,
                     const std::vector<std::filesystem::path>& roots,
                     const std::string& key);

//! Removes from a training config the keys the server sets itself (every
//! run writes into its own run folder and the shared encoded-data cache, so
//! a request must not pick a folder to write into); returns the keys
//! removed.
std::vector<std::string> strip_server_owned_keys(nlohmann::json& config);

} // namespace mlxt::server
