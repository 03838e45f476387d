// Reading a run's metrics.jsonl while the trainer appends to it: complete
// lines only, from a byte offset, and the progress summary the API reports.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::jobs {

//! The records of the complete lines of `file` from byte `offset` on;
//! advances `offset` past the last complete line. A missing file gives none;
//! a line that is not JSON is skipped (a trainer killed mid-write).
std::vector<nlohmann::json> read_metrics(const std::filesystem::path& file,
                                         std::uint64_t& offset);

//! {"step", "total_steps", "fraction", "eta_seconds" (null until a rate is
//! known), "latest_train", "latest_eval"} from a run's records.
//! `running_since` (unix seconds, 0 when not running) and `now` give the
//! rate;
nlohmann::json progress_summary(const std::vector<nlohmann::json>& records,
                                int total_steps,
                                double running_since,
                                double now);

//! {"bytes", "total_bytes", "fraction", "files", "files_done",
//! "current_file", "skipped"} from a download job's records.
nlohmann::json
download_progress_summary(const std::vector<nlohmann::json>& records);

} // namespace mlxt::jobs
