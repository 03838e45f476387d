// One checkpoint on disk: named tensor files (safetensors) and named JSON
// documents, written so that it is either complete and intact or recognisably
// not.
//
// Layout of <checkpoints>/step-00000060/:
//   <name>.safetensors ...  tensors (trainable weights, optimizer state)
//   <name>.json ...         documents (training state, resolved config)
//   manifest.json           format version, and size + SHA-256 of each file
//   COMMITTED               {"manifest_sha256": ...}; written last
//
// Writing: every file goes into a hidden temporary folder and is fsynced, the
// folder is renamed to its final name, the parent folder is fsynced, and only
// then is COMMITTED written (atomically). A folder without COMMITTED is
// incomplete; a file whose size or digest differs from the manifest is
// damaged. Either is refused with Error(invalid_checkpoint) naming the file.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "mlxt/core/params.h"

namespace mlxt::ckpt {

inline constexpr int kFormatVersion = 1;
inline constexpr const char* kCommitMarker = "COMMITTED";
inline constexpr const char* kManifest = "manifest.json";

struct Checkpoint {
  long step = 0;
  std::map<std::string, Params> tensors;           // file stem -> tensors
  std::map<std::string, nlohmann::json> documents; // file stem -> JSON
};

//! "step-00000060".
std::string checkpoint_folder_name(long step);

//! Writes `checkpoint` to <checkpoints_dir>/step-<step> as described above
//! and returns that folder. An existing folder of the same step is replaced.
//! On failure (Error(io), e.g. a full disk) the temporary folder is removed
//! and no other checkpoint is touched.
std::filesystem::path
write_checkpoint(const std::filesystem::path& checkpoints_dir,
                 const Checkpoint& checkpoint);

//! Checks the commit marker and every file against the manifest; throws
//! Error(invalid_checkpoint) naming the missing, truncated or altered file.
void verify_checkpoint(const std::filesystem::path& dir);

//! Verifies `dir`, then reads it. The step comes from manifest.json.
Checkpoint read_checkpoint(const std::filesystem::path& dir);

} // namespace mlxt::ckpt
