#include "mlxt/jobs/engine.h"

#include <csignal>
#include <fstream>

#include "mlxt/ckpt/checkpoint_dir.h"
#include "mlxt/core/atomic_file.h"
#include "mlxt/core/error.h"
#include "mlxt/jobs/process.h"

namespace mlxt::jobs {

namespace fs = std::filesystem;

namespace {

// The trainer's exit status after a SIGTERM/SIGINT: checkpoint written.
constexpr int kStoppedAtCheckpoint = 75;
// How long a shutting-down server waits for its trainers to checkpoint.
constexpr auto kShutdownGrace = std::chrono::seconds(30);

// The last non-empty line of the trainer's log: its error message.
std::string last_log_line(const fs::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) {
      last = line;
    }
  }
  return last.size() > 500 ? last.substr(0, 500) + "..." : last;
}

Job& require(std::optional<Job>& job, const std::string& id) {
  if (!job) {
    fail(ErrorCode::not_found, "no job with id \"" + id + "\"");
  }
  return *job;
}

} // namespace

Engine::Engine(EngineOptions options)
    : options_(std::move(options)),
      store_((fs::create_directories(options_.data_dir / "runs"),
              options_.data_dir / "jobs.db")) {
  recover();
  scheduler_ = std::thread([this] { scheduler_loop(); });
}

Engine::~Engine() {
  shutdown();
}

void Engine::shutdown() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
  }
  wake_.notify_all();
  if (scheduler_.joinable()) {
    scheduler_.join();
  }
}

void Engine::recover() {
  for (JobState s : {JobState::running, JobState::stopping}) {
    for (Job job : store_.jobs({.state = s, .limit = 1 << 30}).jobs) {
      job.state = JobState::interrupted;
      job.reason = "the server stopped while the job ran; resume continues "
                   "from its latest checkpoint";
      job.resume_next = true;
      job.finished_at = unix_now();
      store_.put_job(job);
    }
  }
}

Job Engine::new_job() {
  Job job;
  job.id = new_id("job");
  job.run_dir = (options_.data_dir / "runs" / job.id).string();
  job.created_at = unix_now();
  fs::create_directories(job.run_dir);
  return job;
}

Job Engine::submit_task(Job job) {
  if (job.kind == "train") {
    fail(ErrorCode::internal, "training jobs are submitted with submit()");
  }
  {
    std::lock_guard lock(mutex_);
    store_.put_job(job);
    changed();
  }
  wake_.notify_all();
  return job;
}

Job Engine::submit(config::TrainConfig config,
                   const std::string& pipeline_id,
                   int stage) {
  Job job = new_job();
  job.output_dir =
      (fs::path(job.run_dir) /
       (config.fine_tune_type == config::FineTuneType::full ? "model"
                                                            : "adapters"))
          .string();
  config.runs_dir = (options_.data_dir / "runs").string();
  config.run_id = job.id;
  config.adapter_path = job.output_dir;
  config.progress_bar = false;
  job.config = config.to_json();
  job.pipeline_id = pipeline_id;
  job.stage = stage;
  write_file_atomic(fs::path(job.run_dir) / "config.json",
                    job.config.dump(2) + "\n");
  {
    std::lock_guard lock(mutex_);
    store_.put_job(job);
    changed();
  }
  wake_.notify_all();
  return job;
}

Job Engine::stop(const std::string& id) {
  std::vector<Job> ended;
  Job result;
  {
    std::lock_guard lock(mutex_);
    auto found = store_.job(id);
    Job& job = require(found, id);
    switch (job.state) {
    case JobState::queued:
      job.state = JobState::stopped;
      job.reason = "stopped before it started";
      job.finished_at = unix_now();
      store_.put_job(job);
      ended.push_back(job);
      changed();
      break;
    case JobState::running:
      job.state = JobState::stopping;
      store_.put_job(job);
      signal_process(children_.at(id).pid, SIGTERM);
      changed();
      break;
    case JobState::stopping:
      break; // already asked; the trainer is writing its checkpoint
    default:
      fail(ErrorCode::conflict,
           "job \"" + id + "\" is " + job_state_name(job.state) +
               "; only queued or running jobs can be stopped");
    }
    result = job;
  }
  notify_end(ended);
  return result;
}

Job Engine::resume(const std::string& id) {
  Job result;
  {
    std::lock_guard lock(mutex_);
    auto found = store_.job(id);
    Job& job = require(found, id);
    if (!is_resumable(job.state)) {
      fail(ErrorCode::conflict,
           "job \"" + id + "\" is " + job_state_name(job.state) +
               "; only stopped, failed or interrupted jobs can be resumed");
    }
    // A trainer left running by a previous server still owns the run folder.
    if (job.pid > 0 && process_running_with(job.pid, job.run_dir)) {
      fail(ErrorCode::conflict,
           "job \"" + id +
               "\": the trainer started by a previous server (pid " +
               std::to_string(job.pid) +
               ") is still writing its checkpoint; "
               "try again when it has exited");
    }
    job.state = JobState::queued;
    job.reason.clear();
    job.resume_next = job.starts > 0;
    job.pid = 0;
    store_.put_job(job);
    changed();
    result = job;
  }
  wake_.notify_all();
  return result;
}

void Engine::remove(const std::string& id) {
  Job removed;
  std::vector<std::function<void(const Job&)>> listeners;
  {
    std::lock_guard lock(mutex_);
    auto found = store_.job(id);
    Job& job = require(found, id);
    if (job.state == JobState::running || job.state == JobState::stopping) {
      fail(ErrorCode::conflict,
           "job \"" + id + "\" is " + job_state_name(job.state) +
               "; stop it before deleting it");
    }
    store_.remove_job(id);
    std::error_code ec;
    fs::remove_all(job.run_dir, ec);
    changed();
    removed = job;
    listeners = removal_listeners_;
  }
  // A queued job deleted never ends: its pipeline learns of it here.
  for (const auto& listener : listeners) {
    listener(removed);
  }
}

std::uint64_t Engine::version() {
  std::lock_guard lock(mutex_);
  return version_;
}

std::uint64_t Engine::wait_for_change(std::uint64_t seen,
                                      std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changes_.wait_for(lock, timeout, [&] { return version_ > seen; });
  return version_;
}

void Engine::on_job_end(std::function<void(const Job&)> listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

void Engine::on_job_removed(std::function<void(const Job&)> listener) {
  std::lock_guard lock(mutex_);
  removal_listeners_.push_back(std::move(listener));
}

std::vector<fs::path> Engine::owned_paths() const {
  std::vector<fs::path> out = store_.files();
  out.push_back(options_.data_dir / "runs");
  return out;
}

std::map<std::string, long> Engine::counts() {
  std::map<std::string, long> out;
  for (int s = 0; s <= static_cast<int>(JobState::interrupted); ++s) {
    auto state = static_cast<JobState>(s);
    out[job_state_name(state)] =
        store_.jobs({.state = state, .limit = 0}).total;
  }
  return out;
}

void Engine::changed() {
  ++version_;
  changes_.notify_all();
}

void Engine::notify_end(const std::vector<Job>& ended) {
  std::vector<std::function<void(const Job&)>> listeners;
  {
    std::lock_guard lock(mutex_);
    listeners = listeners_;
  }
  for (const Job& job : ended) {
    for (const auto& listener : listeners) {
      listener(job);
    }
  }
}

void Engine::scheduler_loop() {
  for (;;) {
    std::vector<Job> ended = tick();
    notify_end(ended);
    std::unique_lock lock(mutex_);
    if (shutting_down_) {
      break;
    }
    // Children are polled: a short wait bounds how late an end is noticed.
    wake_.wait_for(lock, std::chrono::milliseconds(100));
    if (shutting_down_) {
      break;
    }
  }
  // Shutdown: ask every trainer to checkpoint, give them time, record them
  // as interrupted so the next server can resume them.
  std::unique_lock lock(mutex_);
  for (const auto& [id, child] : children_) {
    signal_process(child.pid, SIGTERM);
  }
  const auto deadline = std::chrono::steady_clock::now() + kShutdownGrace;
  while (!children_.empty() && std::chrono::steady_clock::now() < deadline) {
    for (auto it = children_.begin(); it != children_.end();) {
      if (auto end = poll_process(it->second.pid)) {
        if (auto job = store_.job(it->first)) {
          job->state = JobState::interrupted;
          job->reason = "the server shut down while the job ran; resume "
                        "continues from its latest checkpoint";
          job->exit_status = end->exit_status;
          job->signal = end->signal;
          job->resume_next = true;
          job->pid = 0;
          job->finished_at = unix_now();
          store_.put_job(*job);
        }
        it = children_.erase(it);
      } else {
        ++it;
      }
    }
    wake_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

std::vector<Job> Engine::tick() {
  std::vector<Job> ended;
  std::lock_guard lock(mutex_);
  for (auto it = children_.begin(); it != children_.end();) {
    auto end = poll_process(it->second.pid);
    if (!end) {
      ++it;
      continue;
    }
    auto job = store_.job(it->first);
    it = children_.erase(it);
    if (job) {
      ended.push_back(finish(*job, end->exit_status.value_or(-1), end->signal));
    }
  }
  if (!shutting_down_) {
    // Downloads wait for no training slot.
    for (Job& job :
         store_.jobs({.state = JobState::queued, .kind = "download"}).jobs) {
      start(std::move(job));
    }
    const int free_slots = options_.max_concurrent - training_children();
    if (free_slots > 0) {
      for (Job& job : store_
                          .jobs({.state = JobState::queued,
                    .limit = free_slots,
                    .kind = "train"})
                          .jobs) {
        start(std::move(job));
      }
    }
  }
  return ended;
}

int Engine::training_children() const {
  int n = 0;
  for (const auto& [id, child] : children_) {
    n += child.training ? 1 : 0;
  }
  return n;
}

void Engine::start(Job job) {
  std::vector<std::string> argv = {options_.trainer.string()};
  if (job.kind != "train") {
    argv.insert(argv.end(), job.args.begin(), job.args.end());
  } else if (job.resume_next && ckpt::has_committed_checkpoint(
                                    fs::path(job.run_dir) / "checkpoints")) {
    // A job stopped or interrupted before its first checkpoint starts over.
    argv.insert(argv.end(), {"train", "--resume", job.run_dir});
  } else {
    argv.insert(argv.end(),
                {"train",
                 "--config",
                 (fs::path(job.run_dir) / "config.json").string()});
  }
  job.starts += 1;
  job.started_at = unix_now();
  job.exit_status.reset();
  job.signal.reset();
  job.reason.clear();
  try {
    const pid_t pid = spawn_process(argv, fs::path(job.run_dir) / "train.log");
    job.pid = pid;
    job.state = JobState::running;
    children_[job.id] = {pid, job.kind == "train"};
  } catch (const Error& e) {
    job.state = JobState::failed;
    job.reason = e.what();
    job.finished_at = unix_now();
  }
  store_.put_job(job);
  changed();
}

Job Engine::finish(Job job, int exit_status, std::optional<int> signal) {
  const bool requested = job.state == JobState::stopping;
  job.pid = 0;
  job.finished_at = unix_now();
  job.exit_status = signal ? std::nullopt : std::optional<int>(exit_status);
  job.signal = signal;
  if (!signal && exit_status == 0) {
    job.state = JobState::completed;
    job.reason.clear();
  } else if (!signal && exit_status == kStoppedAtCheckpoint) {
    job.state = JobState::stopped;
    job.reason = requested ? "stopped on request at a checkpoint"
                           : "stopped at a checkpoint by a signal from "
                             "outside the server";
  } else if (signal && requested && (*signal == SIGTERM || *signal == SIGINT)) {
    job.state = JobState::stopped;
    job.reason = "stopped on request by " + signal_name(*signal) +
                 " before a checkpoint was written";
  } else if (signal) {
    job.state = JobState::failed;
    job.reason = "killed by " + signal_name(*signal);
    if (*signal == SIGKILL) {
      job.reason += " (possibly out of memory)";
    }
  } else {
    job.state = JobState::failed;
    job.reason =
        "the trainer exited with status " + std::to_string(exit_status);
    if (std::string last = last_log_line(fs::path(job.run_dir) / "train.log");
        !last.empty()) {
      job.reason += ": " + last;
    }
  }
  // Whatever the end, a later resume continues from the latest checkpoint.
  job.resume_next = true;
  store_.put_job(job);
  changed();
  return job;
}

} // namespace mlxt::jobs
