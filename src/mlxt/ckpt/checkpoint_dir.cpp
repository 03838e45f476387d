#include "mlxt/ckpt/checkpoint_dir.h"

#include <algorithm>
#include <charconv>

#include "mlxt/ckpt/checkpoint.h"
#include "mlxt/core/atomic_file.h"
#include "mlxt/core/error.h"

namespace mlxt::ckpt {

namespace fs = std::filesystem;

namespace {

// Committed "step-<n>" folders, newest first.
std::vector<std::pair<long, fs::path>> committed(const fs::path& dir) {
  std::vector<std::pair<long, fs::path>> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    auto step = checkpoint_step(entry.path());
    if (step && fs::exists(entry.path() / kCommitMarker)) {
      out.emplace_back(*step, entry.path());
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.first > b.first;
  });
  return out;
}

} // namespace

std::optional<long> checkpoint_step(const fs::path& dir) {
  const std::string name = dir.filename().string();
  if (!name.starts_with("step-") || name.size() == 5) {
    return std::nullopt;
  }
  long step = 0;
  const char* begin = name.data() + 5;
  const char* end = name.data() + name.size();
  auto [ptr, ec] = std::from_chars(begin, end, step);
  if (ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return step;
}

bool has_committed_checkpoint(const fs::path& checkpoints_dir) {
  return fs::is_directory(checkpoints_dir) &&
         !committed(checkpoints_dir).empty();
}

LatestCheckpoint find_latest_checkpoint(const fs::path& checkpoints_dir) {
  LatestCheckpoint result;
  if (!fs::is_directory(checkpoints_dir)) {
    return result;
  }
  // Incomplete: a temporary folder of an interrupted write, or a renamed
  // folder whose commit marker was never written.
  std::vector<fs::path> incomplete;
  for (const auto& entry : fs::directory_iterator(checkpoints_dir)) {
    const std::string name = entry.path().filename().string();
    bool temp = name.starts_with(".step-") && entry.is_directory();
    bool uncommitted = checkpoint_step(entry.path()) &&
                       !fs::exists(entry.path() / kCommitMarker);
    if (temp || uncommitted) {
      incomplete.push_back(entry.path());
    }
  }
  for (const auto& path : incomplete) {
    fs::remove_all(path);
    result.removed.push_back(path);
  }
  if (!incomplete.empty()) {
    fsync_dir(checkpoints_dir);
  }
  for (const auto& [step, dir] : committed(checkpoints_dir)) {
    try {
      verify_checkpoint(dir);
      result.dir = dir;
      break;
    } catch (const Error& e) {
      result.rejected.push_back(e.what());
    }
  }
  return result;
}

void prune_checkpoints(const fs::path& checkpoints_dir,
                       int keep_last,
                       const std::optional<fs::path>& also_keep) {
  auto all = committed(checkpoints_dir);
  const int keep = std::max(keep_last, 1);
  bool removed = false;
  for (size_t i = static_cast<size_t>(keep); i < all.size(); ++i) {
    const fs::path& dir = all[i].second;
    if (also_keep && fs::equivalent(dir, *also_keep)) {
      continue;
    }
    // Uncommit first: a crash while deleting leaves an incomplete folder,
    // which the next lookup clears, never a committed one with files missing.
    fs::remove(dir / kCommitMarker);
    fs::remove_all(dir);
    removed = true;
  }
  if (removed) {
    fsync_dir(checkpoints_dir);
  }
}

} // namespace mlxt::ckpt
