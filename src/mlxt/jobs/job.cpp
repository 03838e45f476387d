#include "mlxt/jobs/job.h"

#include <chrono>
#include <ctime>
#include <random>

namespace mlxt::jobs {

namespace {

constexpr const char* kStateNames[] = {"queued",
                                       "running",
                                       "stopping",
                                       "stopped",
                                       "completed",
                                       "failed",
                                       "interrupted"};

} // namespace

const char* job_state_name(JobState state) {
  return kStateNames[static_cast<int>(state)];
}

std::optional<JobState> parse_job_state(const std::string& name) {
  for (int i = 0; i < static_cast<int>(std::size(kStateNames)); ++i) {
    if (name == kStateNames[i]) {
      return static_cast<JobState>(i);
    }
  }
  return std::nullopt;
}

bool is_final(JobState state) {
  return state == JobState::stopped || state == JobState::completed ||
         state == JobState::failed || state == JobState::interrupted;
}

bool is_resumable(JobState state) {
  return state == JobState::stopped || state == JobState::failed ||
         state == JobState::interrupted;
}

nlohmann::json Job::to_json() const {
  nlohmann::json j = {{"id", id},
                      {"kind", kind},
                      {"state", job_state_name(state)},
                      {"config", config},
                      {"args", args},
                      {"run_dir", run_dir},
                      {"output_dir", output_dir},
                      {"reason", reason},
                      {"exit_status", nullptr},
                      {"signal", nullptr},
                      {"pid", pid},
                      {"starts", starts},
                      {"resume_next", resume_next},
                      {"pipeline_id", pipeline_id},
                      {"stage", stage},
                      {"created_at", created_at},
                      {"started_at", started_at},
                      {"finished_at", finished_at}};
  if (exit_status) {
    j["exit_status"] = *exit_status;
  }
  if (signal) {
    j["signal"] = *signal;
  }
  return j;
}

Job Job::from_json(const nlohmann::json& j) {
  Job job;
  job.id = j.at("id");
  job.state = parse_job_state(j.at("state")).value_or(JobState::failed);
  job.kind = j.value("kind", "train");
  job.config = j.at("config");
  job.args = j.value("args", std::vector<std::string>{});
  job.run_dir = j.at("run_dir");
  job.output_dir = j.value("output_dir", "");
  job.reason = j.value("reason", "");
  if (j.contains("exit_status") && !j["exit_status"].is_null()) {
    job.exit_status = j["exit_status"].get<int>();
  }
  if (j.contains("signal") && !j["signal"].is_null()) {
    job.signal = j["signal"].get<int>();
  }
  job.pid = j.value("pid", 0L);
  job.starts = j.value("starts", 0);
  job.resume_next = j.value("resume_next", false);
  job.pipeline_id = j.value("pipeline_id", "");
  job.stage = j.value("stage", -1);
  job.created_at = j.value("created_at", 0.0);
  job.started_at = j.value("started_at", 0.0);
  job.finished_at = j.value("finished_at", 0.0);
  return job;
}

std::string new_id(const std::string& prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  static const char digits[] = "0123456789abcdef";
  std::string suffix;
  uint64_t bits = rng();
  for (int i = 0; i < 6; ++i, bits >>= 4) {
    suffix += digits[bits & 15];
  }
  return prefix + "-" + stamp + "-" + suffix;
}

double unix_now() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace mlxt::jobs
