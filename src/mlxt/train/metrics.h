// Training metrics: JSON lines in runs/<id>/metrics.jsonl, the same records
// as readable lines, and a progress line (step/total, s/step, tokens/s,
// elapsed, ETA) for the person watching.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

namespace mlxt::train {

//! Where a phase of the run stands, for the progress line.
struct Progress {
  std::string phase; // "train" (units: steps) or "eval" (units: batches)
  long done = 0;
  long total = 0;
  double seconds_per_unit = 0.0;
  double tokens_per_sec = 0.0;  // 0: not shown
  double elapsed_seconds = 0.0; // since the run (or the eval pass) started
  double eta_seconds = 0.0;     // for the rest of this phase
};

class MetricsLog {
public:
  //! Appends to `file` (created with its folder); `out` gets human-readable
  //! lines. `terminal`: `out` is a terminal, so the progress line is redrawn
  //! in place after every step; otherwise it is printed as a line of its own
  //! at most every `line_interval_seconds` (a log file still shows a slow
  //! run moving).
  MetricsLog(const std::filesystem::path& file,
             std::ostream& out,
             bool terminal,
             double line_interval_seconds = 30.0);

  //! Writes one record (flushed, so a crash keeps every line written).
  void record(const nlohmann::json& record);
  //! Shows where the run stands (see the constructor).
  void progress(const Progress& progress);
  //! A line for the person only (not in metrics.jsonl).
  void note(const std::string& text);

private:
  void clear_progress_line();

  std::ofstream file_;
  std::ostream& out_;
  bool terminal_;
  double line_interval_seconds_;
  bool progress_shown_ = false;
  std::chrono::steady_clock::time_point last_line_;
  bool any_line_ = false;
};

//! "42 s", "3:07", "1:02:03": a duration as a person reads it.
std::string format_duration(double seconds);

//! True when stderr is a terminal.
bool stderr_is_terminal();

} // namespace mlxt::train
