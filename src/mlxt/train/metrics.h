// Training metrics: JSON lines in runs/<id>/metrics.jsonl and a one-line
// progress display on a terminal.
#pragma once

#include <filesystem>
#include <fstream>
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

namespace mlxt::train {

class MetricsLog {
public:
  //! Appends to `file` (created with its folder); `out` gets human-readable
  //! lines; `progress_bar` redraws a bar on `out` between reports.
  MetricsLog(const std::filesystem::path& file,
             std::ostream& out,
             bool progress_bar,
             int total_steps);

  //! Writes one record (flushed, so a crash keeps every line written).
  void record(const nlohmann::json& record);
  //! Redraws the progress bar at `step` (no-op without a terminal).
  void progress(int step);

private:
  std::ofstream file_;
  std::ostream& out_;
  bool progress_bar_;
  int total_steps_;
};

//! True when stderr is a terminal.
bool stderr_is_terminal();

} // namespace mlxt::train
