// End-to-end: a pipeline's record stays truthful whatever happens to it
// (issue 19 item 10): its stage job deleted, a body refused, a key misspelt,
// the pipeline deleted. The real `mlxt serve` runs with no training slot
// (--max-concurrent-jobs 0), so stage jobs stay queued and nothing trains.
#include <nlohmann/json.hpp>

#include "mlxt/server/client.h"
#include "support/serve_fixture.h"
#include "support/test_support.h"
#include "support/training_fixtures.h"

namespace {

using namespace mlxt::testing;
using mlxt::server::HttpClient;
using nlohmann::json;
namespace fs = std::filesystem;

class ServerPipelineStateE2E : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    shared_ = new TempDir();
    write_echo_chat_dataset(*shared_ / "data/datasets/echo");
    ASSERT_EQ(init_tiny_model(*shared_ / "data/models/tiny",
                              *shared_ / "data/datasets/echo/train.jsonl"),
              "");
  }
  static void TearDownTestSuite() {
    delete shared_;
    shared_ = nullptr;
  }

  void SetUp() override {
    fs::copy(*shared_ / "data", dir_ / "data", fs::copy_options::recursive);
    server_ = std::make_unique<Server>(
        dir_ / "data", std::vector<std::string>{"--max-concurrent-jobs", "0"});
    server_->start();
  }

  // A two-stage SFT pipeline body.
  static json pipeline(bool run) {
    const json config = {{"data", "datasets/echo"}, {"iters", 5}};
    return {{"name", "two"},
            {"run", run},
            {"stages",
             {{{"name", "one"},
               {"config", config},
               {"input", {{"model", "models/tiny"}}}},
              {{"name", "two"}, {"config", config}}}}};
  }

  json get(const std::string& id) {
    return server_->platform().get("/v1/pipelines/" + id).json();
  }

  static TempDir* shared_;
  TempDir dir_;
  std::unique_ptr<Server> server_;
};

TempDir* ServerPipelineStateE2E::shared_ = nullptr;

// Issue 19.10a: deleting a queued stage job left the pipeline running, then
// stuck in stopping (resume and run answered 409).
TEST_F(ServerPipelineStateE2E, DeletedStageJobFailsThePipelineNamingTheStage) {
  HttpClient p = server_->platform();
  HttpClient c = server_->framework();
  auto r = p.post("/v1/pipelines", pipeline(true));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = r.json()["id"];
  const std::string job = r.json()["stages"][0]["job_id"];
  ASSERT_EQ(c.get("/v1/jobs/" + job).json()["state"], "queued");

  ASSERT_EQ(c.del("/v1/jobs/" + job).status, 200);
  json state = get(id);
  EXPECT_EQ(state["state"], "failed") << state.dump();
  const std::string reason = state["reason"];
  EXPECT_NE(reason.find("stages[0] (one)"), std::string::npos) << reason;
  EXPECT_NE(reason.find(job + " was deleted"), std::string::npos) << reason;
  EXPECT_EQ(state["stages"][0]["state"], "deleted");

  // Resume runs the stage again as a new job.
  r = p.post("/v1/pipelines/" + id + "/resume", std::string());
  ASSERT_EQ(r.status, 202) << r.body;
  state = get(id);
  EXPECT_EQ(state["state"], "running") << state.dump();
  const std::string again = state["stages"][0]["job_id"];
  EXPECT_NE(again, job);
  EXPECT_EQ(c.get("/v1/jobs/" + again).json()["state"], "queued");

  // Stopped while stopping: the same, and it stays resumable.
  ASSERT_EQ(p.post("/v1/pipelines/" + id + "/stop", std::string()).status, 202);
  EXPECT_EQ(get(id)["state"], "stopped");
  ASSERT_EQ(c.del("/v1/jobs/" + again).status, 200);
  state = get(id);
  EXPECT_EQ(state["state"], "stopped") << state.dump();
  EXPECT_EQ(state["stages"][0]["job_id"], "");
  EXPECT_EQ(p.post("/v1/pipelines/" + id + "/resume", std::string()).status,
            202);
}

// Issue 19.10b: a body failing its type checks ("run": "yes") was refused,
// but the pipeline had been saved already.
TEST_F(ServerPipelineStateE2E, BodyFailingTypeChecksSavesNothing) {
  HttpClient p = server_->platform();
  for (const auto& [key, value] : std::vector<std::pair<std::string, json>>{
           {"/run", "yes"},
           {"/name", 5},
           {"/stages/0/name", 5},
           {"/stages/0/method", true},
           {"/stages/0/input/model", 5}}) {
    json body = pipeline(false);
    body[json::json_pointer(key)] = value;
    auto r = p.post("/v1/pipelines", body);
    EXPECT_EQ(r.status, 400) << key << ": " << r.body;
    const std::string message = r.json()["error"]["message"];
    const std::string named =
        key == "/run" ? "run: expected true or false"
        : key == "/name"
            ? "name: expected a string"
            : key.substr(key.rfind('/') + 1) + ": expected a string";
    EXPECT_NE(message.find(named), std::string::npos) << key << ": " << message;
    EXPECT_EQ(message.find("json.exception"), std::string::npos) << message;
  }
  EXPECT_EQ(p.get("/v1/pipelines").json()["total"], 0);
}

// Issue 19.10c: unknown keys were ignored in pipeline stages, from-template
// and /v1/optimizers/validate ("methd": "dpo" made an SFT stage).
TEST_F(ServerPipelineStateE2E, UnknownKeysAreRefusedWithADidYouMean) {
  HttpClient p = server_->platform();
  HttpClient c = server_->framework();
  auto refused = [](const mlxt::server::ClientResponse& r,
                    const std::string& key,
                    const std::string& near) {
    EXPECT_EQ(r.status, 400) << r.body;
    const std::string message = r.json()["error"]["message"];
    EXPECT_NE(message.find(key + ": unknown key"), std::string::npos)
        << message;
    const size_t hint = message.find("did you mean");
    ASSERT_NE(hint, std::string::npos) << message;
    EXPECT_NE(message.find(near, hint), std::string::npos) << message;
  };
  json stage = pipeline(false);
  stage["stages"][1]["methd"] = "dpo";
  refused(p.post("/v1/pipelines", stage), "stages[1] (two).methd", "method");
  json config = pipeline(false);
  config["stages"][1]["config"]["methd"] = "dpo";
  refused(p.post("/v1/pipelines", config), "methd", "method");
  json input = pipeline(false);
  input["stages"][0]["input"]["modle"] = "models/tiny";
  refused(p.post("/v1/pipelines", input), "input.modle", "model");
  refused(p.post("/v1/pipelines/from-template",
                 json{{"template", "chatbot"},
                      {"model", "models/tiny"},
                      {"data", "datasets/echo"},
                      {"configs", {{"sft", {{"methd", "dpo"}}}}}}),
          "methd",
          "method");
  EXPECT_EQ(p.get("/v1/pipelines").json()["total"], 0);

  refused(c.post("/v1/optimizers/validate",
                 json{{"optimizer", "adamw"}, {"parms", json::object()}}),
          "parms",
          "params");
  refused(c.post("/v1/optimizers/validate",
                 json{{"optimizer", "adamw"},
                      {"schedule", {{"nme", "cosine_decay"}}}}),
          "schedule.nme",
          "name");
}

// Issue 19.10d: there was no DELETE /v1/pipelines/{id}.
TEST_F(ServerPipelineStateE2E, DeletePipelineRemovesItAndItsStageJobs) {
  HttpClient p = server_->platform();
  HttpClient c = server_->framework();
  auto r = p.post("/v1/pipelines", pipeline(true));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = r.json()["id"];
  const std::string job = r.json()["stages"][0]["job_id"];

  auto running = p.del("/v1/pipelines/" + id);
  EXPECT_EQ(running.status, 409) << running.body;
  EXPECT_NE(running.body.find("/stop"), std::string::npos) << running.body;

  ASSERT_EQ(p.post("/v1/pipelines/" + id + "/stop", std::string()).status, 202);
  r = p.del("/v1/pipelines/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(p.get("/v1/pipelines/" + id).status, 404);
  EXPECT_EQ(c.get("/v1/jobs/" + job).status, 404);
  EXPECT_FALSE(fs::exists(dir_ / "data/runs" / job));
  EXPECT_EQ(c.get("/v1/jobs?pipeline_id=" + id).json()["total"], 0);
  EXPECT_EQ(p.del("/v1/pipelines/" + id).status, 404);

  // A created pipeline (no stage job yet) goes too; OpenAPI lists the route.
  r = p.post("/v1/pipelines", pipeline(false));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(p.del("/v1/pipelines/" + r.json()["id"].get<std::string>()).status,
            200);
  EXPECT_EQ(p.get("/v1/pipelines").json()["total"], 0);
  EXPECT_TRUE(p.get("/openapi.json")
                  .json()["paths"]["/v1/pipelines/{id}"]
                  .contains("delete"));
}

} // namespace
