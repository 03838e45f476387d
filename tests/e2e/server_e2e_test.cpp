// End-to-end: the real `mlxt serve` on free loopback ports, driven over
// HTTP. Jobs train a tiny model on a small dataset, so each finishes in
// seconds on a CPU; long-running jobs (stop, kill, restart) are ended by the
// test. Every wait polls with a deadline.
#include <cmath>
#include <csignal>
#include <set>

#include <nlohmann/json.hpp>

#include "mlxt/core/safetensors.h"
#include "mlxt/jobs/store.h"
#include "mlxt/server/client.h"
#include "support/serve_fixture.h"
#include "support/test_support.h"
#include "support/training_fixtures.h"

namespace {

using namespace mlxt::testing;
using mlxt::server::HttpClient;
using nlohmann::json;
namespace fs = std::filesystem;
namespace mx = mlx::core;

void write_dataset(const fs::path& dir) {
  std::string train, valid;
  for (int rep = 0; rep < 4; ++rep) {
    for (const char* w : {"apple",
                          "river",
                          "stone",
                          "cloud",
                          "tiger",
                          "maple",
                          "ocean",
                          "piano"}) {
      std::string row =
          json{{"messages",
                {{{"role", "user"}, {"content", std::string("Echo: ") + w}},
                 {{"role", "assistant"},
                  {"content", std::string(w) + " " + w}}}}}
              .dump();
      train += row + "\n";
      if (rep == 0) {
        valid += row + "\n";
      }
    }
  }
  write_file(dir / "train.jsonl", train);
  write_file(dir / "valid.jsonl", valid);
}

// "Echo: <word>": chosen repeats the word twice, rejected says "no".
void write_preferences(const fs::path& dir) {
  std::string rows;
  for (const char* w : {"apple", "river", "stone", "cloud"}) {
    rows += json{{"prompt", std::string("Echo: ") + w},
                 {"chosen", std::string(w) + " " + w},
                 {"rejected", "no"}}
                .dump() +
            "\n";
  }
  write_file(dir / "train.jsonl", rows);
  write_file(dir / "valid.jsonl", rows);
}

// Prompt rows for online RL (ppo, grpo): the prompts of the preferences.
void write_prompts(const fs::path& dir) {
  std::string rows;
  for (const char* w : {"apple", "river", "stone", "cloud"}) {
    rows += json{{"prompt", std::string("Echo: ") + w}}.dump() + "\n";
  }
  write_file(dir / "train.jsonl", rows);
  write_file(dir / "valid.jsonl", rows);
}

// The largest |a - b| over the LoRA B arrays of two adapter files (fresh
// adapters have B = 0).
float max_b_difference(const fs::path& a, const fs::path& b) {
  const mlxt::Params y = mlxt::load_safetensors_file(b);
  float out = 0;
  for (const auto& [name, value] : mlxt::load_safetensors_file(a)) {
    if (name.ends_with(".lora_b")) {
      out = std::max(out,
                     mx::max(mx::abs(mx::subtract(value, mlxt::param(y, name))))
                         .item<float>());
    }
  }
  return out;
}

// The largest |B| over the LoRA B arrays of an adapter file.
float max_b_magnitude(const fs::path& file) {
  float out = 0;
  for (const auto& [name, value] : mlxt::load_safetensors_file(file)) {
    if (name.ends_with(".lora_b")) {
      out = std::max(out, mx::max(mx::abs(value)).item<float>());
    }
  }
  return out;
}

class ServerE2E : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    shared_ = new TempDir();
    write_dataset(*shared_ / "data/datasets/echo");
    write_preferences(*shared_ / "data/datasets/prefs");
    write_prompts(*shared_ / "data/datasets/prompts");
    auto r =
        run_command({mlxt_binary(),
                     "init-model",
                     "--arch",
                     "llama",
                     "--preset",
                     "tiny",
                     "--out",
                     (*shared_ / "data/models/tiny").string(),
                     "--vocab-size",
                     "300",
                     "--init-std",
                     "0.2",
                     "--tokenizer-corpus",
                     (*shared_ / "data/datasets/echo/train.jsonl").string()});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  static void TearDownTestSuite() {
    delete shared_;
    shared_ = nullptr;
  }

  void SetUp() override {
    // Each test has its own data directory holding copies of the model and
    // dataset (the store and run folders must not leak between tests).
    fs::copy(*shared_ / "data", dir_ / "data", fs::copy_options::recursive);
  }

  fs::path data_dir() const { return dir_ / "data"; }

  // A training config for the tiny model; `iters` large = runs until ended.
  json config(int iters, const std::string& fine_tune_type = "lora") const {
    return {{"model", "models/tiny"},
            {"data", "datasets/echo"},
            {"fine_tune_type", fine_tune_type},
            {"iters", iters},
            {"batch_size", 4},
            {"steps_per_report", iters > 1000 ? 1 : 5},
            {"steps_per_eval", 100000},
            {"val_batches", 2},
            {"save_every", 0},
            {"max_seq_length", 64},
            {"learning_rate", 5e-3}};
  }

  // The same for a pipeline stage, whose model is its input.
  json stage_config(int iters,
                    const std::string& fine_tune_type = "lora") const {
    json c = config(iters, fine_tune_type);
    c.erase("model");
    return c;
  }

  static bool
  in_state(HttpClient& c, const std::string& id, const std::string& state) {
    return c.get("/v1/jobs/" + id).json().value("state", "") == state;
  }

  // Submits a long job and waits until it is running and has reported.
  std::string start_long_job(HttpClient& c) {
    auto r = c.post("/v1/jobs", config(100000));
    EXPECT_EQ(r.status, 201) << r.body;
    const std::string id = r.json()["id"];
    EXPECT_TRUE(eventually([&] {
      json j = c.get("/v1/jobs/" + id).json();
      return j["state"] == "running" && j["progress"]["step"] >= 1;
    })) << c.get("/v1/jobs/" + id + "/logs").body;
    return id;
  }

  // Waits for pipeline `id` to end; returns its record.
  static json finished_pipeline(HttpClient& p, const std::string& id) {
    json state;
    EXPECT_TRUE(eventually(
        [&] {
          state = p.get("/v1/pipelines/" + id).json();
          return state["state"] == "completed" || state["state"] == "failed";
        },
        120))
        << state.dump();
    return state;
  }

  // The job of stage `index` of pipeline record `p`.
  static json stage_job(HttpClient& c, const json& p, int index) {
    return c.get("/v1/jobs/" + p["stages"][index]["job_id"].get<std::string>())
        .json();
  }

  static std::vector<double> val_losses(const json& job) {
    std::vector<double> out;
    for (const auto& e : metric_events(
             read_metrics(fs::path(job["run_dir"].get<std::string>()) /
                          "metrics.jsonl"),
             "eval")) {
      out.push_back(e["val_loss"]);
    }
    return out;
  }

  static TempDir* shared_;
  TempDir dir_;
};

TempDir* ServerE2E::shared_ = nullptr;

TEST_F(ServerE2E, JobRunsToCompletionWithLiveEventsAndArtifacts) {
  Server server(data_dir());
  server.start();
  HttpClient c = server.framework();

  auto r = c.post("/v1/jobs", config(20));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = r.json()["id"];
  EXPECT_EQ(r.json()["state"], "queued");

  std::vector<json> trains;
  std::vector<std::string> states;
  json end;
  mlxt::server::SseParser parser(
      [&](const std::string& event, const std::string& data) {
        json j = json::parse(data);
        if (event == "metrics" && j["event"] == "train") {
          trains.push_back(j);
        } else if (event == "state") {
          states.push_back(j["state"]);
        } else if (event == "end") {
          end = j;
          return false;
        }
        return true;
      });
  auto s = server.framework().stream(
      "/v1/jobs/" + id + "/events",
      [&](const std::string& chunk) { return parser.feed(chunk); });
  EXPECT_EQ(s.status, 200);
  EXPECT_NE(s.content_type.find("text/event-stream"), std::string::npos);
  ASSERT_EQ(end.value("state", ""), "completed")
      << end.dump() << c.get("/v1/jobs/" + id + "/logs").body;
  ASSERT_EQ(trains.size(), 4u); // steps 5, 10, 15, 20
  EXPECT_EQ(trains.back()["step"], 20);
  EXPECT_LT(trains.back()["loss"].get<double>(),
            trains.front()["loss"].get<double>());
  EXPECT_EQ(states.back(), "completed");

  json j = c.get("/v1/jobs/" + id).json();
  EXPECT_EQ(j["state"], "completed");
  EXPECT_EQ(j["exit_status"], 0);
  EXPECT_EQ(j["progress"]["step"], 20);
  EXPECT_EQ(j["progress"]["fraction"], 1.0);
  EXPECT_EQ(j["progress"]["latest_train"]["step"], 20);
  long adapter_bytes = -1;
  for (const auto& a : j["artifacts"]) {
    if (a["path"] == "adapters/adapters.safetensors") {
      adapter_bytes = a["bytes"];
    }
  }
  ASSERT_GT(adapter_bytes, 0) << j["artifacts"].dump();
  auto file =
      c.get("/v1/jobs/" + id + "/artifacts/adapters/adapters.safetensors");
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(static_cast<long>(file.body.size()), adapter_bytes);
  EXPECT_EQ(
      file.body,
      read_file(data_dir() / "runs" / id / "adapters/adapters.safetensors"));

  auto metrics = c.get("/v1/jobs/" + id + "/metrics?event=train").json();
  EXPECT_EQ(metrics["records"].size(), 4u);
  EXPECT_NE(c.get("/v1/jobs/" + id + "/logs").body.find("[train]"),
            std::string::npos);
  auto list = c.get("/v1/jobs?state=completed").json();
  EXPECT_EQ(list["total"], 1);
  EXPECT_EQ(c.get("/v1/jobs?state=running").json()["total"], 0);

  auto prom = c.get("/metrics");
  EXPECT_NE(prom.body.find("mlxt_jobs{state=\"completed\"} 1"),
            std::string::npos)
      << prom.body;
  EXPECT_NE(prom.body.find("route=\"/v1/jobs/{id}\""), std::string::npos);

  auto models = c.get("/v1/models").json();
  ASSERT_EQ(models["models"].size(), 1u) << models.dump();
  EXPECT_EQ(models["models"][0]["architecture"], "llama");
  EXPECT_GT(models["models"][0]["parameters"].get<long>(), 0);

  EXPECT_EQ(c.del("/v1/jobs/" + id).status, 200);
  EXPECT_EQ(c.get("/v1/jobs/" + id).status, 404);
  EXPECT_FALSE(fs::exists(data_dir() / "runs" / id));
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(ServerE2E, BadRequestsGetFourHundredsWithEveryProblem) {
  Server server(data_dir(), {"--max-body-bytes", "4096"});
  server.start();
  HttpClient c = server.framework();

  json bad = config(10);
  bad["iters"] = "many";
  bad["learning_rat"] = 0.1;
  bad["fine_tune_type"] = "partial";
  auto r = c.post("/v1/jobs", bad);
  ASSERT_EQ(r.status, 400) << r.body;
  json err = r.json()["error"];
  EXPECT_EQ(err["code"], "invalid_config");
  const std::string problems = err["details"]["problems"].dump();
  EXPECT_GE(err["details"]["problems"].size(), 3u) << problems;
  for (const char* key : {"iters", "learning_rat", "fine_tune_type"}) {
    EXPECT_NE(problems.find(key), std::string::npos) << key << problems;
  }
  EXPECT_NE(problems.find("learning_rate"), std::string::npos)
      << "a did-you-mean: " << problems;

  EXPECT_EQ(c.post("/v1/jobs", std::string("{\"model\": ")).status, 400);
  EXPECT_EQ(c.post("/v1/jobs", std::string("[1, 2]")).status, 400);
  EXPECT_EQ(c.post("/v1/jobs", config(10).dump(), "text/plain").status, 415);
  auto big = c.post("/v1/jobs", std::string(8192, ' ') + "{}");
  EXPECT_EQ(big.status, 413) << big.body;
  EXPECT_EQ(c.get("/v1/jobs?limit=x").status, 400);
  EXPECT_EQ(c.get("/v1/jobs?state=sleeping").status, 400);
  EXPECT_EQ(c.get("/v1/nothing").status, 404);
  EXPECT_EQ(c.del("/v1/jobs").status, 405);
  EXPECT_EQ(c.get("/v1/jobs/job-none").json()["error"]["code"], "not_found");
  EXPECT_EQ(c.post("/v1/jobs/job-none/stop", std::string()).status, 404);

  auto opt = c.post("/v1/optimizers/validate",
                    json{{"optimizer", "lion"}, {"params", {{"beta1", 0.8}}}});
  ASSERT_EQ(opt.status, 200) << opt.body;
  EXPECT_EQ(opt.json()["optimizer"]["params"]["beta1"], 0.8);
  auto bad_opt =
      c.post("/v1/optimizers/validate", json{{"optimizer", "adamm"}});
  EXPECT_EQ(bad_opt.status, 400);
  EXPECT_NE(bad_opt.body.find("adam"), std::string::npos) << bad_opt.body;
  EXPECT_GT(c.get("/v1/optimizers").json()["optimizers"].size(), 3u);

  // The Host allow-list: a foreign name is refused (DNS rebinding).
  HttpClient foreign = server.framework();
  foreign.set_header("Host", "evil.example:8500");
  EXPECT_EQ(foreign.get("/health").status, 400);
  // Every OpenAPI path is one of the routes.
  auto doc = c.get("/openapi.json").json();
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_TRUE(doc["paths"].contains("/v1/jobs/{id}/events"));
}

TEST_F(ServerE2E, PathsOutsideTheRootsAreNeverOpened) {
  fs::create_directory_symlink("/etc", data_dir() / "etc-link");
  Server server(data_dir());
  server.start();
  HttpClient c = server.framework();
  for (const std::string& bad : {std::string("../../etc"),
                                 std::string("/etc"),
                                 std::string("models/../../.."),
                                 std::string("etc-link"),
                                 std::string("etc-link/passwd"),
                                 std::string("models/tiny\0/../../x", 20),
                                 (dir_ / "data/../").string()}) {
    for (const char* key : {"model", "data"}) {
      json body = config(10);
      body[key] = bad;
      auto r = c.post("/v1/jobs", body);
      EXPECT_TRUE(r.status == 403 || r.status == 400)
          << key << "=" << bad << " -> " << r.status << " " << r.body;
    }
  }
  EXPECT_EQ(c.get("/v1/jobs").json()["total"], 0);

  auto r = c.post("/v1/jobs", config(5));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = r.json()["id"];
  const std::string base = "/v1/jobs/" + id + "/artifacts/";
  for (const char* path : {"../../../../etc/passwd",
                           "%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                           "..%2f..%2f..%2f..%2fetc%2fpasswd",
                           "%2fetc%2fpasswd",
                           "config.json%00.txt"}) {
    auto a = c.get(base + path);
    EXPECT_TRUE(a.status == 403 || a.status == 404 || a.status == 400)
        << path << " -> " << a.status;
    EXPECT_EQ(a.body.find("root:"), std::string::npos) << path;
  }
  EXPECT_EQ(c.get(base + "config.json").status, 200);
}

TEST_F(ServerE2E, EveryRouteNeedsTheTokenWhenOneIsSet) {
  Server server(data_dir(), {"--api-token", "s3cret-token"});
  server.start();
  server.set_token("s3cret-token");
  for (bool platform : {false, true}) {
    HttpClient with = platform ? server.platform() : server.framework();
    auto doc = with.get("/openapi.json");
    ASSERT_EQ(doc.status, 200) << doc.body;
    int routes = 0;
    const json paths = doc.json()["paths"];
    for (const auto& [path, methods] : paths.items()) {
      std::string concrete = path;
      for (const auto& [from, to] :
           std::vector<std::pair<std::string, std::string>>{{"{id}", "x"},
                                                            {"{path}", "a"}}) {
        if (auto at = concrete.find(from); at != std::string::npos) {
          concrete.replace(at, from.size(), to);
        }
      }
      for (const auto& [method, op] : methods.items()) {
        if (op.contains("security") && op["security"].empty()) {
          // Routes without data (the dashboard page, health probes) need
          // no token.
          auto page = HttpClient("127.0.0.1",
                                 platform ? server.platform_port()
                                          : server.framework_port())
                          .get(concrete);
          EXPECT_EQ(page.status, 200) << concrete;
          EXPECT_TRUE(concrete == "/" || concrete.starts_with("/health"))
              << concrete;
          EXPECT_EQ(page.body.find("s3cret-token"), std::string::npos);
          continue;
        }
        for (const char* token : {"", "wrong-token-"}) {
          HttpClient without("127.0.0.1",
                             platform ? server.platform_port()
                                      : server.framework_port(),
                             token);
          auto r = method == "get"    ? without.get(concrete)
                   : method == "post" ? without.post(concrete, json::object())
                                      : without.del(concrete);
          EXPECT_EQ(r.status, 401) << method << " " << concrete;
        }
        ++routes;
      }
    }
    EXPECT_GE(routes, platform ? 12 : 18);
  }
  EXPECT_EQ(server.framework().get("/health").status, 200);
  // A non-loopback bind without a token is refused.
  auto r = run_command({mlxt_binary(),
                        "serve",
                        "--data-dir",
                        (dir_ / "other").string(),
                        "--host",
                        "0.0.0.0",
                        "--framework-port",
                        "0",
                        "--platform-port",
                        "0"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("requires an API token"), std::string::npos)
      << r.output;
}

TEST_F(ServerE2E, ChildKilledBySigkillFailsAndTheServerStaysUp) {
  Server server(data_dir());
  server.start();
  HttpClient c = server.framework();
  const std::string id = start_long_job(c);
  const long pid = c.get("/v1/jobs/" + id).json()["pid"];
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(static_cast<pid_t>(pid), SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return in_state(c, id, "failed"); }));
  json j = c.get("/v1/jobs/" + id).json();
  EXPECT_EQ(j["signal"], SIGKILL);
  EXPECT_NE(j["reason"].get<std::string>().find("SIGKILL"), std::string::npos);
  EXPECT_NE(j["reason"].get<std::string>().find("out of memory"),
            std::string::npos);
  EXPECT_EQ(c.get("/health").status, 200);
  // The slot is free again: a new job runs.
  auto next = c.post("/v1/jobs", config(5));
  ASSERT_EQ(next.status, 201);
  const std::string next_id = next.json()["id"];
  EXPECT_TRUE(eventually([&] { return in_state(c, next_id, "completed"); }))
      << c.get("/v1/jobs/" + next_id).body;
}

TEST_F(ServerE2E, StopEndsTheTrainerAndResumeRunsItAgain) {
  Server server(data_dir());
  server.start();
  HttpClient c = server.framework();
  const std::string id = start_long_job(c);
  EXPECT_EQ(c.del("/v1/jobs/" + id).status, 409) << "running: not deletable";
  auto stop = c.post("/v1/jobs/" + id + "/stop", std::string());
  ASSERT_EQ(stop.status, 202) << stop.body;
  ASSERT_TRUE(eventually([&] { return in_state(c, id, "stopped"); }))
      << c.get("/v1/jobs/" + id).body;
  EXPECT_EQ(c.post("/v1/jobs/" + id + "/stop", std::string()).status, 409);
  auto resume = c.post("/v1/jobs/" + id + "/resume", std::string());
  ASSERT_EQ(resume.status, 202) << resume.body;
  EXPECT_EQ(resume.json()["resume_next"], true);
  ASSERT_TRUE(eventually([&] {
    json j = c.get("/v1/jobs/" + id).json();
    return j["starts"] == 2 && j["state"] != "queued";
  }));
  // The stop wrote a checkpoint; the second trainer continues from it.
  const fs::path run_dir = c.get("/v1/jobs/" + id).json()["run_dir"];
  auto stopped_at =
      metric_events(read_metrics(run_dir / "metrics.jsonl"), "stopped");
  ASSERT_EQ(stopped_at.size(), 1u);
  ASSERT_TRUE(eventually([&] {
    return !metric_events(read_metrics(run_dir / "metrics.jsonl"), "resume")
                .empty();
  }));
  auto resumed =
      metric_events(read_metrics(run_dir / "metrics.jsonl"), "resume");
  EXPECT_EQ(resumed[0]["step"], stopped_at[0]["step"]);
  EXPECT_TRUE(resumed[0]["exact"].get<bool>());
  ASSERT_EQ(c.post("/v1/jobs/" + id + "/stop", std::string()).status, 202);
  EXPECT_TRUE(eventually([&] { return in_state(c, id, "stopped"); }));
}

TEST_F(ServerE2E, KilledServerLosesNoJobAndMarksRunningOnesInterrupted) {
  auto server = std::make_unique<Server>(data_dir());
  server->start();
  HttpClient c = server->framework();
  const std::string running = start_long_job(c);
  auto queued = c.post("/v1/jobs", config(5));
  ASSERT_EQ(queued.status, 201);
  const std::string queued_id = queued.json()["id"];
  const long trainer = c.get("/v1/jobs/" + running).json()["pid"];

  server->stop(SIGKILL);
  // The orphaned trainer is told to stop by its parent-death signal.
  ASSERT_TRUE(eventually([&] { return !alive(static_cast<pid_t>(trainer)); }))
      << "the trainer outlived the server";
  {
    mlxt::jobs::Store store(data_dir() / "jobs.db");
    EXPECT_EQ(store.integrity_check(), "ok");
    EXPECT_EQ(store.jobs({}).total, 2);
  }

  server = std::make_unique<Server>(data_dir());
  server->start();
  HttpClient c2 = server->framework();
  json j = c2.get("/v1/jobs/" + running).json();
  EXPECT_EQ(j["state"], "interrupted");
  EXPECT_NE(j["reason"].get<std::string>().find("server stopped"),
            std::string::npos);
  // The queued job was kept and now runs to completion.
  EXPECT_TRUE(eventually([&] { return in_state(c2, queued_id, "completed"); }))
      << c2.get("/v1/jobs/" + queued_id).body;
  auto resume = c2.post("/v1/jobs/" + running + "/resume", std::string());
  EXPECT_EQ(resume.status, 202) << resume.body;
}

TEST_F(ServerE2E, TwoStagePipelineHandsStageOneOutputToStageTwo) {
  Server server(data_dir());
  server.start();
  HttpClient p = server.platform();

  json stage1 = stage_config(10, "full");
  json stage2 = stage_config(10, "lora");
  json body = {{"name", "full then lora"},
               {"run", true},
               {"stages",
                {{{"name", "full"},
                  {"method", "sft"},
                  {"config", stage1},
                  {"input", {{"model", "models/tiny"}}}},
                 {{"name", "lora"},
                  {"method", "sft"},
                  {"config", stage2},
                  {"input", "previous"}}}}};
  auto r = p.post("/v1/pipelines", body);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = r.json()["id"];
  json state = finished_pipeline(p, id);
  ASSERT_EQ(state["state"], "completed") << state.dump();
  HttpClient c = server.framework();
  json first = stage_job(c, state, 0);
  json second = stage_job(c, state, 1);
  EXPECT_EQ(second["config"]["model"], first["output_dir"]);
  EXPECT_TRUE(fs::exists(fs::path(first["output_dir"].get<std::string>()) /
                         "model.safetensors"));
  EXPECT_EQ(state["stages"][1]["progress"]["step"], 10);
  EXPECT_EQ(c.get("/v1/jobs?pipeline_id=" + id).json()["total"], 2);

  // Methods without a trainer are refused at creation, naming the stage.
  auto templates = p.get("/v1/templates").json();
  for (const auto& type : templates["stage_types"]) {
    if (type["available"]) {
      continue;
    }
    json refused_body = body;
    refused_body["stages"][1]["method"] = type["method"];
    auto refused = p.post("/v1/pipelines", refused_body);
    ASSERT_EQ(refused.status, 400);
    EXPECT_NE(refused.body.find("stages[1] (lora).method"), std::string::npos)
        << refused.body;
    EXPECT_NE(refused.json()["error"]["message"].get<std::string>().find(
                  type["reason"].get<std::string>()),
              std::string::npos)
        << refused.body;
  }
  ASSERT_EQ(templates["templates"].size(), 4u);
  EXPECT_EQ(templates["templates"][0]["name"], "chatbot");
  EXPECT_EQ(templates["templates"][0]["available"], true);
  for (const auto& t : templates["templates"]) {
    if (t["available"]) {
      continue;
    }
    auto from = p.post("/v1/pipelines/from-template",
                       json{{"template", t["name"]},
                            {"model", "models/tiny"},
                            {"data", "datasets/echo"}});
    EXPECT_EQ(from.status, 400) << from.body;
    EXPECT_NE(from.json()["error"]["message"].get<std::string>().find(
                  t["unavailable_stages"][0]["reason"].get<std::string>()),
              std::string::npos)
        << from.body;
  }
}

// Issue 19: stage 2 of a LoRA -> LoRA pipeline started from the base (its
// step-0 validation loss was stage 1's step-0 value).
TEST_F(ServerE2E, LoraStageHandsItsAdaptersToTheNextStage) {
  Server server(data_dir());
  server.start();
  HttpClient p = server.platform();
  json stage1 = stage_config(10);
  stage1["lora_parameters"] = {{"rank", 4}};
  json stage2 = stage_config(5);
  auto r = p.post("/v1/pipelines",
                  json{{"run", true},
                       {"stages",
                        {{{"name", "one"},
                          {"config", stage1},
                          {"input", {{"model", "models/tiny"}}}},
                         {{"name", "two"}, {"config", stage2}}}}});
  ASSERT_EQ(r.status, 201) << r.body;
  json state = finished_pipeline(p, r.json()["id"]);
  ASSERT_EQ(state["state"], "completed") << state.dump();
  HttpClient c = server.framework();
  json first = stage_job(c, state, 0);
  json second = stage_job(c, state, 1);
  EXPECT_EQ(second["config"]["resume_adapter_file"],
            first["output_dir"].get<std::string>() + "/adapters.safetensors");
  EXPECT_EQ(second["config"]["lora_parameters"]["rank"], 4);
  const std::vector<double> one = val_losses(first);
  const std::vector<double> two = val_losses(second);
  ASSERT_EQ(one.size(), 2u);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_NEAR(two.front(), one.back(), 1e-6);
  EXPECT_GT(std::abs(two.front() - one.front()), 0.01);
}

// Issue 19: a stage's data_cache was kept, so a stage could write cache
// files anywhere; like a job's, it is the server's.
TEST_F(ServerE2E, StageDataCacheIsServerOwned) {
  Server server(data_dir());
  server.start();
  HttpClient p = server.platform();
  json stage = stage_config(5);
  stage["data_cache"] = (dir_ / "elsewhere").string();
  auto r = p.post(
      "/v1/pipelines",
      json{{"stages",
            {{{"config", stage}, {"input", {{"model", "models/tiny"}}}}}}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json()["ignored_keys"],
            json::array({"stages[0].config.data_cache"}));
  json saved =
      p.get("/v1/pipelines/" + r.json()["id"].get<std::string>()).json();
  EXPECT_FALSE(saved["stages"][0]["config"].contains("data_cache"))
      << saved.dump();
}

// Issue 19: unknown keys of from-template were ignored.
TEST_F(ServerE2E, FromTemplateRefusesUnknownKeysAndStages) {
  Server server(data_dir());
  server.start();
  HttpClient p = server.platform();
  const json body = {{"template", "chatbot"},
                     {"model", "models/tiny"},
                     {"data", "datasets/echo"}};
  json typo = body;
  typo["confgs"] = json::object();
  auto r = p.post("/v1/pipelines/from-template", typo);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("did you mean"), std::string::npos) << r.body;
  json stage = body;
  stage["configs"] = {{"ppo", json::object()}};
  r = p.post("/v1/pipelines/from-template", stage);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("configs.ppo"), std::string::npos) << r.body;
  EXPECT_EQ(p.get("/v1/pipelines").json()["total"], 0);
}

// The chatbot template (SFT -> DPO) through the API: the DPO stage starts
// from the SFT stage's adapters (policy and reference).
TEST_F(ServerE2E, ChatbotTemplateRunsSftThenDpoOnTheSftAdapters) {
  Server server(data_dir());
  server.start();
  HttpClient p = server.platform();
  json sft = stage_config(10);
  sft["lora_parameters"] = {{"rank", 4}};
  json dpo = {{"data", "datasets/prefs"},
              {"iters", 4},
              {"batch_size", 2},
              {"steps_per_report", 1},
              {"steps_per_eval", 100000},
              {"save_every", 0},
              {"max_seq_length", 64},
              // Small steps: the DPO adapters stay next to the SFT ones.
              {"learning_rate", 1e-4},
              {"beta", 0.1}};
  auto r = p.post("/v1/pipelines/from-template",
                  json{{"template", "chatbot"},
                       {"model", "models/tiny"},
                       {"data", "datasets/echo"},
                       {"configs", {{"sft", sft}, {"dpo", dpo}}},
                       {"run", true}});
  ASSERT_EQ(r.status, 201) << r.body;
  json state = finished_pipeline(p, r.json()["id"]);
  ASSERT_EQ(state["state"], "completed") << state.dump();
  HttpClient c = server.framework();
  json first = stage_job(c, state, 0);
  json second = stage_job(c, state, 1);
  for (const json* job : {&first, &second}) {
    EXPECT_EQ((*job)["state"], "completed");
  }
  EXPECT_EQ(state["stages"][0]["progress"]["step"], 10);
  EXPECT_EQ(state["stages"][1]["progress"]["step"], 4);
  EXPECT_EQ(second["config"]["method"], "dpo");
  EXPECT_EQ(second["config"]["model"], first["config"]["model"]);
  const fs::path sft_adapters =
      fs::path(first["output_dir"].get<std::string>()) / "adapters.safetensors";
  const fs::path dpo_adapters =
      fs::path(second["output_dir"].get<std::string>()) /
      "adapters.safetensors";
  EXPECT_EQ(second["config"]["resume_adapter_file"], sft_adapters.string());
  EXPECT_EQ(second["config"]["lora_parameters"]["rank"], 4);

  // DPO read the SFT adapters: four small steps from them leave its B
  // within 5% of theirs (measured 0.6%; fresh adapters have B = 0).
  ASSERT_TRUE(fs::exists(sft_adapters));
  ASSERT_TRUE(fs::exists(dpo_adapters));
  const float sft_b = max_b_magnitude(sft_adapters);
  EXPECT_GT(sft_b, 0.01f);
  EXPECT_LT(max_b_difference(dpo_adapters, sft_adapters), 0.05f * sft_b);
  auto records = read_metrics(fs::path(second["run_dir"].get<std::string>()) /
                              "metrics.jsonl");
  auto trains = metric_events(records, "train");
  ASSERT_EQ(trains.size(), 4u);
  for (const char* key : {"loss", "reward_margin", "reward_accuracy"}) {
    EXPECT_TRUE(trains.front().contains(key)) << trains.front().dump();
  }
  const json shown =
      c.get("/v1/jobs/" + second["id"].get<std::string>()).json();
  std::set<std::string> artifacts;
  for (const auto& a : shown["artifacts"]) {
    artifacts.insert(a["path"].get<std::string>());
  }
  for (const char* file : {"adapters/adapters.safetensors",
                           "adapters/adapter_config.json",
                           "metrics.jsonl"}) {
    EXPECT_TRUE(artifacts.contains(file)) << file;
  }
}

// RLHF through the API: a reward stage trains a LoRA reward model, and the
// PPO stage after it samples from the tiny model and is rewarded by that
// reward model (the hand-over names its folder as reward_model).
TEST_F(ServerE2E, RewardStageRewardsTheNextPpoStage) {
  Server server(data_dir());
  server.start();
  HttpClient p = server.platform();
  const json common = {{"batch_size", 4},
                       {"steps_per_report", 1},
                       {"steps_per_eval", 100000},
                       {"save_every", 0},
                       {"max_seq_length", 64}};
  json reward = common;
  reward.update({{"data", "datasets/prefs"}, {"iters", 4}});
  json ppo = common;
  ppo.update({{"data", "datasets/prompts"},
              {"iters", 2},
              {"ppo_epochs", 1},
              {"max_completion_length", 4}});
  auto r = p.post("/v1/pipelines",
                  json{{"run", true},
                       {"stages",
                        {{{"name", "rm"},
                          {"method", "reward"},
                          {"config", reward},
                          {"input", {{"model", "models/tiny"}}}},
                         {{"name", "rl"},
                          {"method", "ppo"},
                          {"config", ppo},
                          {"input", {{"model", "models/tiny"}}}}}}});
  ASSERT_EQ(r.status, 201) << r.body;
  json state = finished_pipeline(p, r.json()["id"]);
  ASSERT_EQ(state["state"], "completed") << state.dump();
  HttpClient c = server.framework();
  json first = stage_job(c, state, 0);
  json second = stage_job(c, state, 1);
  EXPECT_EQ(second["config"]["method"], "ppo");
  EXPECT_EQ(second["config"]["reward_model"], first["output_dir"]);
  EXPECT_TRUE(fs::exists(fs::path(first["output_dir"].get<std::string>()) /
                         "score.safetensors"));
  auto records = read_metrics(fs::path(second["run_dir"].get<std::string>()) /
                              "metrics.jsonl");
  auto starts = metric_events(records, "start");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0]["reward_model"], first["output_dir"]);
  auto trains = metric_events(records, "train");
  ASSERT_EQ(trains.size(), 2u);
  for (const auto& t : trains) {
    // A reward model's scores are real numbers, not a rule's 0 and 1.
    const double reward = t["reward"].get<double>();
    EXPECT_TRUE(std::isfinite(reward)) << t.dump();
    EXPECT_NE(reward, 0.0) << t.dump();
    EXPECT_NE(reward, 1.0) << t.dump();
  }
}

} // namespace
