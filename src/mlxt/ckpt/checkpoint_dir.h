// The checkpoints folder of a run: finding the newest usable checkpoint,
// clearing away incomplete ones, and retention.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mlxt::ckpt {

struct LatestCheckpoint {
  //! The newest committed checkpoint whose files match its manifest; empty
  //! when there is none.
  std::optional<std::filesystem::path> dir;
  //! Newer checkpoints that were passed over, one message each naming the
  //! damaged file (Error(invalid_checkpoint)'s text).
  std::vector<std::string> rejected;
  //! Incomplete checkpoints (temporary folders, folders never committed)
  //! that were removed.
  std::vector<std::filesystem::path> removed;
};

//! Removes incomplete checkpoints in `checkpoints_dir`, then verifies the
//! committed ones from the newest down and returns the first intact one.
//! A missing folder gives an empty result.
LatestCheckpoint
find_latest_checkpoint(const std::filesystem::path& checkpoints_dir);

//! True when `checkpoints_dir` holds a committed checkpoint (cheap: reads
//! no file; find_latest_checkpoint verifies).
bool has_committed_checkpoint(const std::filesystem::path& checkpoints_dir);

//! The step of a "step-<n>" folder, or nothing for other names.
std::optional<long> checkpoint_step(const std::filesystem::path& dir);

//! Retention, run after a checkpoint was committed: keeps the newest
//! `keep_last` committed checkpoints and `also_keep` (e.g. the best by
//! validation loss), removes the other committed ones. Never removes the
//! newest committed checkpoint.
void prune_checkpoints(const std::filesystem::path& checkpoints_dir,
                       int keep_last,
                       const std::optional<std::filesystem::path>& also_keep);

} // namespace mlxt::ckpt
