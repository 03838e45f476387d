#include "mlxt/jobs/metrics_tail.h"

#include <fstream>
#include <string>

namespace mlxt::jobs {

std::vector<nlohmann::json> read_metrics(const std::filesystem::path& file,
                                         std::uint64_t& offset) {
  std::vector<nlohmann::json> records;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return records;
  }
  in.seekg(static_cast<std::streamoff>(offset));
  std::string chunk{std::istreambuf_iterator<char>(in),
                    std::istreambuf_iterator<char>()};
  size_t start = 0;
  for (size_t nl = chunk.find('\n'); nl != std::string::npos;
       nl = chunk.find('\n', start)) {
    auto record = nlohmann::json::parse(
        chunk.begin() + start, chunk.begin() + nl, nullptr, false);
    if (!record.is_discarded() && record.is_object()) {
      records.push_back(std::move(record));
    }
    start = nl + 1;
  }
  offset += start;
  return records;
}

nlohmann::json progress_summary(const std::vector<nlohmann::json>& records,
                                int total_steps,
                                double running_since,
                                double now) {
  nlohmann::json latest_train = nullptr;
  nlohmann::json latest_eval = nullptr;
  int step = 0;
  // Steps reported before the latest "start" record were done by an earlier
  // trainer (a resumed run continues from them): only later ones give the
  // current trainer's rate.
  int base = 0;
  for (const auto& r : records) {
    const std::string event = r.value("event", "");
    if (event == "start") {
      base = step;
    } else if (event == "train") {
      latest_train = r;
      step = r.value("step", step);
    } else if (event == "eval") {
      latest_eval = r;
    }
  }
  nlohmann::json eta = nullptr;
  if (running_since > 0 && step > base && step < total_steps) {
    const double per_step = (now - running_since) / (step - base);
    eta = per_step * (total_steps - step);
  }
  return {{"step", step},
          {"total_steps", total_steps},
          {"fraction",
           total_steps > 0 ? static_cast<double>(step) / total_steps : 0.0},
          {"eta_seconds", eta},
          {"latest_train", latest_train},
          {"latest_eval", latest_eval}};
}

nlohmann::json
download_progress_summary(const std::vector<nlohmann::json>& records) {
  std::uint64_t bytes = 0, total = 0;
  size_t files = 0, files_done = 0;
  nlohmann::json current = nullptr;
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& r : records) {
    const std::string event = r.value("event", "");
    if (event == "download_plan") {
      // A resumed download plans again and re-verifies finished files.
      total = r.value("total_bytes", std::uint64_t{0});
      files = r.value("files", nlohmann::json::array()).size();
      skipped = r.value("skipped", nlohmann::json::array());
      files_done = 0;
      bytes = 0;
    } else if (event == "download") {
      bytes = r.value("done_bytes", bytes);
      current = r.value("file", "");
    } else if (event == "verified") {
      bytes = r.value("done_bytes", bytes);
      files_done += 1;
      current = nullptr;
    } else if (event == "download_done") {
      bytes = total;
      files_done = files;
    }
  }
  return {{"bytes", bytes},
          {"total_bytes", total},
          {"fraction",
           total > 0 ? static_cast<double>(bytes) / double(total) : 0.0},
          {"files", files},
          {"files_done", files_done},
          {"current_file", current},
          {"skipped", skipped}};
}

} // namespace mlxt::jobs
