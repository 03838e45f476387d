// A training job as the job engine records it: its state machine, the
// resolved training config it runs, its run folder and why it ended.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::jobs {

// queued -> running -> completed | failed | stopping -> stopped.
// A server that dies while a job runs marks it interrupted at restart;
// stopped, interrupted and failed jobs can be resumed (queued again).
enum class JobState {
  queued,
  running,
  stopping,
  stopped,
  completed,
  failed,
  interrupted,
};

//! "queued", "running", ...
const char* job_state_name(JobState state);
//! The state named `name`, or nullopt.
std::optional<JobState> parse_job_state(const std::string& name);
//! True for states no process runs in (stopped, completed, failed,
//! interrupted).
bool is_final(JobState state);
//! True when POST .../resume may queue the job again.
bool is_resumable(JobState state);

struct Job {
  std::string id;
  //! "train": an `mlxt train` child under the concurrency limit;
  //! "download": an `mlxt models download` child, started at once.
  std::string kind = "train";
  JobState state = JobState::queued;
  nlohmann::json config; // train: the resolved TrainConfig; else the request
  //! Arguments after the `mlxt` binary for jobs other than "train" (a
  //! trainer's depend on whether it resumes).
  std::vector<std::string> args;
  std::string run_dir;    // <data>/runs/<id>; metrics.jsonl, train.log
  std::string output_dir; // adapters or the full model folder
  std::string reason;     // why it failed, stopped or was interrupted
  std::optional<int> exit_status;
  std::optional<int> signal; // the signal that ended the process
  long pid = 0;              // of the running trainer, 0 when none
  int starts = 0;            // how many times a trainer was started
  bool resume_next = false;  // the next start continues from a checkpoint
  std::string pipeline_id;   // empty unless a pipeline stage
  int stage = -1;            // index of that stage
  double created_at = 0;     // unix seconds
  double started_at = 0;     // of the latest start
  double finished_at = 0;    // of the latest end

  //! Every field, under the names the REST API uses.
  nlohmann::json to_json() const;
  //! The inverse of to_json (store rows).
  static Job from_json(const nlohmann::json& j);
};

//! A fresh id: "job-" + time + random suffix, unique per server.
std::string new_id(const std::string& prefix);

//! Unix time in seconds.
double unix_now();

} // namespace mlxt::jobs
