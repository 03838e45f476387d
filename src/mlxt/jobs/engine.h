// The job engine: accepts training jobs, keeps them in the store, and runs
// them as child `mlxt train` processes, at most max_concurrent at a time.
//
// Threads: the scheduler thread owns every child process (it forks them,
// so a child's parent-death signal is tied to it, reaps them and starts
// queued jobs); callers on other threads submit, stop, resume and read.
// Every state change is committed to the store before it is visible.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mlxt/config/config.h"
#include "mlxt/jobs/job.h"
#include "mlxt/jobs/store.h"

namespace mlxt::jobs {

struct EngineOptions {
  std::filesystem::path data_dir; // jobs.db and runs/<id>/ live here
  std::filesystem::path trainer;  // the `mlxt` binary
  int max_concurrent = 1;         // trainers at once; 0: queue only
};

class Engine {
public:
  //! Opens the store, marks jobs a previous server left running as
  //! interrupted, and starts the scheduler thread.
  explicit Engine(EngineOptions options);
  //! shutdown(), if not done yet.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  //! Asks running trainers to stop (they checkpoint), waits a while for
  //! them, records them as interrupted, and ends the scheduler thread. No
  //! listener is called after it returns.
  void shutdown();

  Store& store() { return store_; }
  //! What the engine writes under data_dir, which requests must never
  //! write: the store's files and the runs/ folder.
  std::vector<std::filesystem::path> owned_paths() const;
  const EngineOptions& options() const { return options_; }

  //! Queues `config` as a new job (its run folder, output folder and
  //! run id are set by the engine). The job is durable when this returns.
  Job submit(config::TrainConfig config,
             const std::string& pipeline_id = "",
             int stage = -1);
  //! A fresh job: its id and run folder (created), not yet stored.
  Job new_job();
  //! Queues `job` (from new_job, with a kind other than "train", its
  //! config, args and output_dir set): it runs `mlxt <args>` with its log in
  //! the run folder, outside the training concurrency limit.
  Job submit_task(Job job);
  //! Stops a job: a queued job at once, a running one by SIGTERM (the
  //! trainer checkpoints and exits). Error(not_found), Error(conflict) for a
  //! job that has already ended.
  Job stop(const std::string& id);
  //! Queues a stopped, failed or interrupted job again; it continues from
  //! its latest checkpoint. Error(not_found), Error(conflict).
  Job resume(const std::string& id);
  //! Deletes a job that is not running, with its run folder, then tells
  //! the on_job_removed listeners.
  void remove(const std::string& id);
  std::optional<Job> job(const std::string& id) { return store_.job(id); }

  //! A counter that grows with every job state change.
  std::uint64_t version();
  //! Waits until version() > `seen` or `timeout` passes; returns version().
  std::uint64_t wait_for_change(std::uint64_t seen,
                                std::chrono::milliseconds timeout);

  //! Called (on the scheduler or a caller's thread, without engine locks
  //! held) whenever a job reaches a final state.
  void on_job_end(std::function<void(const Job&)> listener);
  //! Called (on the caller's thread of remove(), without engine locks
  //! held) with the record of each deleted job.
  void on_job_removed(std::function<void(const Job&)> listener);

  //! Number of jobs in each state.
  std::map<std::string, long> counts();

private:
  void recover();
  void scheduler_loop();
  // Reaps ended children and starts queued jobs; returns jobs that ended.
  std::vector<Job> tick();
  void start(Job job);
  Job finish(Job job, int exit_status, std::optional<int> signal);
  void changed(); // bumps the version; callers hold mutex_
  void notify_end(const std::vector<Job>& ended);

  EngineOptions options_;
  Store store_;
  std::mutex mutex_;
  std::condition_variable wake_;    // the scheduler: work to do
  std::condition_variable changes_; // waiters on version()
  std::uint64_t version_ = 0;
  int training_children() const;
  bool shutting_down_ = false;
  struct Child {
    pid_t pid;
    bool training; // counts against max_concurrent
  };
  std::map<std::string, Child> children_; // running job id -> its process
  std::vector<std::function<void(const Job&)>> listeners_;
  std::vector<std::function<void(const Job&)>> removal_listeners_;
  std::thread scheduler_;
};

} // namespace mlxt::jobs
