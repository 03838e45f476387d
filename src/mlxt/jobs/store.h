// The job store: one SQLite database (WAL journal, synchronous=FULL, so a
// commit that returned survives a crash or power loss) holding every job and
// pipeline record. Thread-safe; the only file that includes SQLite.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/jobs/job.h"

struct sqlite3;

namespace mlxt::jobs {

struct JobQuery {
  std::optional<JobState> state; // only jobs in this state
  std::string pipeline_id;       // only this pipeline's stages
  int limit = 50;
  int offset = 0;
  std::string kind; // only jobs of this kind ("train", "download")
};

struct JobPage {
  std::vector<Job> jobs; // oldest first
  long total = 0;        // matching jobs, ignoring limit and offset
};

class Store {
public:
  //! Opens or creates the database `file` (its folder must exist).
  //! Error(io) when SQLite refuses.
  explicit Store(const std::filesystem::path& file);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  //! Inserts or replaces `job` (by id) in one durable transaction.
  void put_job(const Job& job);
  std::optional<Job> job(const std::string& id);
  JobPage jobs(const JobQuery& query);
  //! Removes the job; false when there was none.
  bool remove_job(const std::string& id);

  //! Inserts or replaces a pipeline record (an object with "id" and
  //! "state").
  void put_pipeline(const nlohmann::json& record);
  std::optional<nlohmann::json> pipeline(const std::string& id);
  //! Pipeline records, oldest first.
  std::vector<nlohmann::json> pipelines(int limit, int offset);
  long pipeline_count();
  //! Removes the pipeline record; false when there was none.
  bool remove_pipeline(const std::string& id);

  //! SQLite's PRAGMA integrity_check result ("ok" when sound).
  std::string integrity_check();
  //! The journal mode in effect ("wal").
  std::string journal_mode();
  //! The database file and the ones SQLite keeps beside it (-wal, -shm,
  //! -journal): writing any of them corrupts the store.
  std::vector<std::filesystem::path> files() const;

private:
  void exec(const std::string& sql);
  std::mutex mutex_;
  sqlite3* db_ = nullptr;
  std::filesystem::path file_;
};

} // namespace mlxt::jobs
