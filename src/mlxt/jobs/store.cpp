#include "mlxt/jobs/store.h"

#include <sqlite3.h>

#include "mlxt/core/error.h"

namespace mlxt::jobs {

namespace {

// One prepared statement, finalized on scope exit.
class Statement {
public:
  Statement(sqlite3* db, const std::string& sql, const std::string& file)
      : db_(db), file_(file) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      fail(ErrorCode::internal,
           std::string("job store: cannot prepare \"") + sql +
               "\": " + sqlite3_errmsg(db),
           {.file = file});
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }

  Statement& bind(int index, const std::string& text) {
    sqlite3_bind_text(stmt_, index, text.c_str(), -1, SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int index, double value) {
    sqlite3_bind_double(stmt_, index, value);
    return *this;
  }
  Statement& bind(int index, long value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  //! True while a row is available.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
      return true;
    }
    if (rc != SQLITE_DONE) {
      fail(ErrorCode::io,
           std::string("job store: ") + sqlite3_errmsg(db_),
           {.file = file_});
    }
    return false;
  }
  std::string text(int column) {
    auto* p = sqlite3_column_text(stmt_, column);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  long integer(int column) { return sqlite3_column_int64(stmt_, column); }

private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string file_;
};

} // namespace

Store::Store(const std::filesystem::path& file) : file_(file) {
  if (sqlite3_open_v2(file.c_str(),
                      &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                          SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    fail(ErrorCode::io,
         "cannot open the job store: " + why,
         {.file = file.string()});
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL");
  // FULL: in WAL mode NORMAL may lose the last commits on power loss; a job
  // whose POST returned must never be lost.
  exec("PRAGMA synchronous=FULL");
  exec("CREATE TABLE IF NOT EXISTS jobs ("
       " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
       " id TEXT UNIQUE NOT NULL,"
       " state TEXT NOT NULL,"
       " pipeline_id TEXT NOT NULL,"
       " record TEXT NOT NULL)");
  exec("CREATE TABLE IF NOT EXISTS pipelines ("
       " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
       " id TEXT UNIQUE NOT NULL,"
       " state TEXT NOT NULL,"
       " record TEXT NOT NULL)");
}

Store::~Store() {
  sqlite3_close(db_);
}

void Store::exec(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string why = message ? message : "unknown error";
    sqlite3_free(message);
    fail(ErrorCode::io,
         "job store: \"" + sql + "\" failed: " + why,
         {.file = file_.string()});
  }
}

void Store::put_job(const Job& job) {
  std::lock_guard lock(mutex_);
  // An upsert keeps the row's seq, so listings stay in submission order.
  Statement(db_,
            "INSERT INTO jobs (id, state, pipeline_id, record) "
            "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE SET "
            "state = excluded.state, pipeline_id = excluded.pipeline_id, "
            "record = excluded.record",
            file_)
      .bind(1, job.id)
      .bind(2, std::string(job_state_name(job.state)))
      .bind(3, job.pipeline_id)
      .bind(4, job.to_json().dump())
      .step();
}

std::optional<Job> Store::job(const std::string& id) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT record FROM jobs WHERE id = ?1", file_);
  s.bind(1, id);
  if (!s.step()) {
    return std::nullopt;
  }
  return Job::from_json(nlohmann::json::parse(s.text(0)));
}

JobPage Store::jobs(const JobQuery& query) {
  std::lock_guard lock(mutex_);
  // Records written before jobs had kinds are training jobs.
  const std::string where =
      " WHERE (?1 = '' OR state = ?1)"
      " AND (?2 = '' OR pipeline_id = ?2)"
      " AND (?5 = '' OR coalesce(json_extract(record, '$.kind'), 'train') = "
      "?5)";
  const std::string state = query.state ? job_state_name(*query.state) : "";
  JobPage page;
  Statement count(db_, "SELECT COUNT(*) FROM jobs" + where, file_);
  count.bind(1, state).bind(2, query.pipeline_id).bind(5, query.kind);
  if (count.step()) {
    page.total = count.integer(0);
  }
  Statement rows(db_,
                 "SELECT record FROM jobs" + where +
                     " ORDER BY seq LIMIT ?3 OFFSET ?4",
                 file_);
  rows.bind(1, state)
      .bind(2, query.pipeline_id)
      .bind(3, static_cast<long>(query.limit))
      .bind(4, static_cast<long>(query.offset))
      .bind(5, query.kind);
  while (rows.step()) {
    page.jobs.push_back(Job::from_json(nlohmann::json::parse(rows.text(0))));
  }
  return page;
}

bool Store::remove_job(const std::string& id) {
  std::lock_guard lock(mutex_);
  Statement(db_, "DELETE FROM jobs WHERE id = ?1", file_).bind(1, id).step();
  return sqlite3_changes(db_) > 0;
}

void Store::put_pipeline(const nlohmann::json& record) {
  std::lock_guard lock(mutex_);
  Statement(db_,
            "INSERT INTO pipelines (id, state, record) VALUES (?1, ?2, ?3) "
            "ON CONFLICT(id) DO UPDATE SET state = excluded.state, "
            "record = excluded.record",
            file_)
      .bind(1, record.at("id").get<std::string>())
      .bind(2, record.at("state").get<std::string>())
      .bind(3, record.dump())
      .step();
}

std::optional<nlohmann::json> Store::pipeline(const std::string& id) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT record FROM pipelines WHERE id = ?1", file_);
  s.bind(1, id);
  if (!s.step()) {
    return std::nullopt;
  }
  return nlohmann::json::parse(s.text(0));
}

std::vector<nlohmann::json> Store::pipelines(int limit, int offset) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "SELECT record FROM pipelines ORDER BY seq LIMIT ?1 OFFSET ?2",
              file_);
  s.bind(1, static_cast<long>(limit)).bind(2, static_cast<long>(offset));
  std::vector<nlohmann::json> out;
  while (s.step()) {
    out.push_back(nlohmann::json::parse(s.text(0)));
  }
  return out;
}

long Store::pipeline_count() {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT COUNT(*) FROM pipelines", file_);
  return s.step() ? s.integer(0) : 0;
}

bool Store::remove_pipeline(const std::string& id) {
  std::lock_guard lock(mutex_);
  Statement(db_, "DELETE FROM pipelines WHERE id = ?1", file_)
      .bind(1, id)
      .step();
  return sqlite3_changes(db_) > 0;
}

std::string Store::integrity_check() {
  std::lock_guard lock(mutex_);
  Statement s(db_, "PRAGMA integrity_check", file_);
  std::string result;
  while (s.step()) {
    result += (result.empty() ? "" : "\n") + s.text(0);
  }
  return result;
}

std::string Store::journal_mode() {
  std::lock_guard lock(mutex_);
  Statement s(db_, "PRAGMA journal_mode", file_);
  return s.step() ? s.text(0) : "";
}

std::vector<std::filesystem::path> Store::files() const {
  std::vector<std::filesystem::path> out = {file_};
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    out.push_back(file_.string() + suffix);
  }
  return out;
}

} // namespace mlxt::jobs
