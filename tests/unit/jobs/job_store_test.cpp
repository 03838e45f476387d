// The job store (SQLite), metrics tailing, path confinement and the SSE
// parser: the parts of the job server that need no running process.
#include <csignal>

#include <nlohmann/json.hpp>

#include "mlxt/jobs/metrics_tail.h"
#include "mlxt/jobs/store.h"
#include "mlxt/server/client.h"
#include "mlxt/server/http.h"
#include "mlxt/server/paths.h"
#include "support/test_support.h"

namespace {

using namespace mlxt::testing;
using mlxt::jobs::Job;
using mlxt::jobs::JobState;
using nlohmann::json;
namespace fs = std::filesystem;

Job make_job(const std::string& id, JobState state) {
  Job job;
  job.id = id;
  job.state = state;
  job.config = {{"model", "m"}, {"iters", 10}};
  job.run_dir = "/runs/" + id;
  job.created_at = 1.0;
  return job;
}

TEST(JobStore, RoundTripsJobsInSubmissionOrderWithFiltersAndPages) {
  TempDir dir;
  mlxt::jobs::Store store(dir / "jobs.db");
  EXPECT_EQ(store.journal_mode(), "wal");
  for (int i = 0; i < 5; ++i) {
    store.put_job(make_job("job-" + std::to_string(i),
                           i % 2 ? JobState::running : JobState::queued));
  }
  Job changed = make_job("job-0", JobState::failed);
  changed.reason = "killed by SIGKILL";
  changed.signal = SIGKILL;
  store.put_job(changed); // an update keeps its place in the order

  auto all = store.jobs({});
  ASSERT_EQ(all.total, 5);
  EXPECT_EQ(all.jobs.front().id, "job-0");
  EXPECT_EQ(all.jobs.front().state, JobState::failed);
  EXPECT_EQ(all.jobs.front().signal, SIGKILL);
  EXPECT_FALSE(all.jobs.front().exit_status.has_value());

  auto running = store.jobs({.state = JobState::running});
  EXPECT_EQ(running.total, 2);
  auto page = store.jobs({.limit = 2, .offset = 3});
  ASSERT_EQ(page.jobs.size(), 2u);
  EXPECT_EQ(page.jobs[0].id, "job-3");
  EXPECT_EQ(page.total, 5);

  EXPECT_TRUE(store.remove_job("job-3"));
  EXPECT_FALSE(store.remove_job("job-3"));
  EXPECT_FALSE(store.job("job-3").has_value());
  EXPECT_EQ(store.integrity_check(), "ok");
}

TEST(JobStore, CommittedRecordsSurviveReopening) {
  TempDir dir;
  {
    mlxt::jobs::Store store(dir / "jobs.db");
    store.put_job(make_job("job-a", JobState::queued));
    store.put_pipeline({{"id", "pipeline-a"}, {"state", "created"}});
  }
  mlxt::jobs::Store store(dir / "jobs.db");
  ASSERT_TRUE(store.job("job-a").has_value());
  EXPECT_EQ(store.job("job-a")->config["iters"], 10);
  EXPECT_EQ(store.pipeline_count(), 1);
  EXPECT_EQ((*store.pipeline("pipeline-a"))["state"], "created");
}

TEST(JobStore, UnwritableFileIsAnIoError) {
  EXPECT_MLXT_ERROR(mlxt::jobs::Store("/nonexistent-dir/x/jobs.db"),
                    io,
                    "cannot open the job store");
}

TEST(MetricsTail, ReadsOnlyCompleteLinesAndSummarisesProgress) {
  TempDir dir;
  write_file(dir / "m.jsonl",
             "{\"event\":\"start\"}\n"
             "{\"event\":\"train\",\"step\":5,\"loss\":3.0}\n"
             "{\"event\":\"eval\",\"step\":5,\"val_loss\":2.5}\n"
             "{\"event\":\"train\",\"step\":10,\"lo");
  std::uint64_t offset = 0;
  auto records = mlxt::jobs::read_metrics(dir / "m.jsonl", offset);
  ASSERT_EQ(records.size(), 3u);
  // The torn last line is read once it is complete.
  write_file(dir / "m.jsonl", read_file(dir / "m.jsonl") + "ss\":2.0}\n");
  auto more = mlxt::jobs::read_metrics(dir / "m.jsonl", offset);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0]["step"], 10);
  records.push_back(more[0]);

  json p = mlxt::jobs::progress_summary(records, 40, 100.0, 110.0);
  EXPECT_EQ(p["step"], 10);
  EXPECT_DOUBLE_EQ(p["fraction"].get<double>(), 0.25);
  EXPECT_EQ(p["latest_train"]["loss"], 2.0);
  EXPECT_EQ(p["latest_eval"]["val_loss"], 2.5);
  // 10 steps in 10 s, 30 steps left.
  EXPECT_NEAR(p["eta_seconds"].get<double>(), 30.0, 1e-9);
  // After a resume (a second "start"), only the new steps give the rate.
  records.push_back({{"event", "start"}});
  records.push_back({{"event", "train"}, {"step", 12}});
  EXPECT_NEAR(
      mlxt::jobs::progress_summary(records, 40, 100.0, 110.0)["eta_seconds"]
          .get<double>(),
      10.0 / 2 * 28,
      1e-9);
  EXPECT_TRUE(
      mlxt::jobs::progress_summary(records, 40, 0.0, 110.0)["eta_seconds"]
          .is_null());
}

TEST(ConfinePath, KeepsPathsInsideTheRootsAndRefusesTheRest) {
  TempDir dir;
  fs::create_directories(dir / "root/models/m");
  fs::create_directories(dir / "outside");
  fs::create_directory_symlink(dir / "outside", dir / "root/link-out");
  const std::vector<fs::path> roots = {fs::canonical(dir / "root")};
  EXPECT_EQ(mlxt::server::confine_path("models/m", roots, "model"),
            roots[0] / "models/m");
  EXPECT_EQ(mlxt::server::confine_path("models/new/../m", roots, "model"),
            roots[0] / "models/m");
  for (const std::string& bad : {std::string("../outside"),
                                 std::string("models/../../outside"),
                                 (dir / "outside").string(),
                                 std::string("/etc/passwd"),
                                 std::string("link-out/file"),
                                 std::string("link-out"),
                                 std::string("a\0b", 3),
                                 std::string("")}) {
    try {
      mlxt::server::confine_path(bad, roots, "model");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const mlxt::server::HttpError& e) {
      EXPECT_TRUE(e.status == 403 || e.status == 400) << bad;
      EXPECT_NE(e.message.find("model"), std::string::npos) << e.message;
    }
  }
}

TEST(SseParser, SplitsEventsAcrossChunks) {
  std::vector<std::pair<std::string, std::string>> seen;
  mlxt::server::SseParser parser(
      [&](const std::string& e, const std::string& d) {
        seen.emplace_back(e, d);
        return e != "end";
      });
  EXPECT_TRUE(parser.feed("event: state\ndata: {\"a\":"));
  EXPECT_TRUE(parser.feed("1}\n\n: keep-alive\n\nevent: metrics\ndata: 2\n"));
  EXPECT_FALSE(parser.feed("\nevent: end\ndata: 3\n\nevent: x\ndata: 4\n\n"));
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0],
            std::make_pair(std::string("state"), std::string("{\"a\":1}")));
  EXPECT_EQ(seen[2].first, "end");
}

} // namespace
