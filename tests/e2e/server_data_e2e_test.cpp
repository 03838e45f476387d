// End-to-end: the dataset routes of the real `mlxt serve` on loopback
// (/v1/datasets/validate, /convert, /stats). One server and one tiny model
// serve every test of the program.
#include <regex>

#include <nlohmann/json.hpp>

#include "support/serve_fixture.h"
#include "support/test_support.h"
#include "support/training_fixtures.h"

namespace {

using namespace mlxt::testing;
using mlxt::server::ClientResponse;
using mlxt::server::HttpClient;
using nlohmann::json;
namespace fs = std::filesystem;

class ServerDataE2E : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    write_echo_chat_dataset(data_dir() / "datasets/echo");
    // Line 1 is fine; line 2 has an unknown role; line 3 is not a chat row;
    // line 4 is not JSON.
    write_file(data_dir() / "datasets/bad.jsonl",
               R"({"messages": [{"role": "user", "content": "hi"}, )"
               R"({"role": "assistant", "content": "hello"}]})"
               "\n"
               R"({"messages": [{"role": "user", "content": "hi"}, )"
               R"({"role": "bot", "content": "hello"}]})"
               "\n"
               R"({"messages": "nope"})"
               "\n{not json\n");
    fs::create_directories(data_dir() / "converted");
    ASSERT_EQ(init_tiny_model(data_dir() / "models/tiny",
                              data_dir() / "datasets/echo/train.jsonl"),
              "");
    server_ = new Server(data_dir());
    server_->start();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  static fs::path data_dir() { return dir_->path() / "data"; }
  static HttpClient client() { return server_->framework(); }

  static TempDir* dir_;
  static Server* server_;
};

TempDir* ServerDataE2E::dir_ = nullptr;
Server* ServerDataE2E::server_ = nullptr;

TEST_F(ServerDataE2E, ValidateReportsEverySplitAndEveryBadRowAsValues) {
  HttpClient c = client();
  auto good = c.post("/v1/datasets/validate", json{{"path", "datasets/echo"}});
  ASSERT_EQ(good.status, 200) << good.body;
  json g = good.json();
  EXPECT_EQ(g["valid"], true);
  ASSERT_EQ(g["splits"].size(), 2u);
  EXPECT_EQ(g["splits"][0]["format"], "messages");
  EXPECT_EQ(g["splits"][0]["read"]["rows_read"], 64);
  EXPECT_EQ(g["splits"][1]["read"]["kept"], 8);

  auto bad =
      c.post("/v1/datasets/validate", json{{"path", "datasets/bad.jsonl"}});
  ASSERT_EQ(bad.status, 200) << bad.body;
  json b = bad.json();
  EXPECT_EQ(b["valid"], false);
  json read = b["splits"][0]["read"];
  EXPECT_EQ(read["kept"], 1) << read.dump();
  EXPECT_EQ(read["invalid"], 3) << read.dump();
  ASSERT_EQ(read["problems"].size(), 3u) << read.dump();
  json role = read["problems"][0];
  EXPECT_EQ(role["line"], 2);
  EXPECT_EQ(role["row"], 2);
  EXPECT_EQ(role["key"], "messages[1].role");
  EXPECT_NE(role["reason"].get<std::string>().find("bot"), std::string::npos);
  EXPECT_EQ(fs::path(role["file"].get<std::string>()).filename(), "bad.jsonl");
  EXPECT_EQ(read["problems"][1]["line"], 3);
  EXPECT_EQ(read["problems"][2]["line"], 4);

  // With the model, every row is also encoded.
  auto encoded = c.post("/v1/datasets/validate",
                        json{{"path", "datasets/echo"},
                             {"model", "models/tiny"},
                             {"max_seq_length", 8}});
  ASSERT_EQ(encoded.status, 200) << encoded.body;
  json e = encoded.json()["splits"][0]["encoded"];
  EXPECT_EQ(e["examples"].get<int>() + e["dropped_no_targets"].get<int>(), 64);
  EXPECT_GT(e["truncated"], 0) << e.dump();
}

TEST_F(ServerDataE2E, ConvertWritesTheTargetFormatInsideTheRoots) {
  HttpClient c = client();
  auto r = c.post("/v1/datasets/convert",
                  json{{"path", "datasets/echo/train.jsonl"},
                       {"to", "alpaca"},
                       {"out", "converted/echo-alpaca.jsonl"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["from"], "messages");
  EXPECT_EQ(r.json()["written"], 64);
  const std::string text =
      read_file(data_dir() / "converted/echo-alpaca.jsonl");
  const json first = json::parse(text.substr(0, text.find('\n')));
  EXPECT_EQ(first["instruction"], "Echo: apple") << first.dump();
  EXPECT_EQ(first["output"], "apple apple");

  // Invalid rows stop a conversion unless skip_invalid; then they are
  // reported.
  auto stopped = c.post("/v1/datasets/convert",
                        json{{"path", "datasets/bad.jsonl"},
                             {"to", "alpaca"},
                             {"out", "converted/bad.jsonl"}});
  EXPECT_EQ(stopped.status, 400) << stopped.body;
  EXPECT_EQ(stopped.json()["error"]["code"], "invalid_data");
  EXPECT_FALSE(fs::exists(data_dir() / "converted/bad.jsonl"));
  auto skipped = c.post("/v1/datasets/convert",
                        json{{"path", "datasets/bad.jsonl"},
                             {"to", "alpaca"},
                             {"out", "converted/bad.jsonl"},
                             {"skip_invalid", true}});
  ASSERT_EQ(skipped.status, 200) << skipped.body;
  EXPECT_EQ(skipped.json()["written"], 1);
  EXPECT_EQ(skipped.json()["read"]["problems"].size(), 3u);

  for (const char* out : {"../outside.jsonl", "/tmp/outside.jsonl"}) {
    auto escaped = c.post("/v1/datasets/convert",
                          json{{"path", "datasets/echo/train.jsonl"},
                               {"to", "alpaca"},
                               {"out", out}});
    EXPECT_EQ(escaped.status, 403) << out << " " << escaped.body;
  }
  EXPECT_FALSE(fs::exists(dir_->path() / "outside.jsonl"));
  auto from_outside = c.post("/v1/datasets/convert",
                             json{{"path", "/etc/passwd"},
                                  {"to", "text"},
                                  {"out", "converted/x.jsonl"}});
  EXPECT_EQ(from_outside.status, 403) << from_outside.body;
}

TEST_F(ServerDataE2E, StatsMatchTheCommandLine) {
  HttpClient c = client();
  auto r = c.post("/v1/datasets/stats",
                  json{{"path", "datasets/echo"}, {"model", "models/tiny"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json train = r.json()["splits"][0];
  EXPECT_EQ(train["examples"], 64);
  EXPECT_GT(train["tokens"], train["target_tokens"]);
  json len = train["length"];
  EXPECT_LE(len["min"], len["median"]);
  EXPECT_LE(len["median"], len["p95"]);
  EXPECT_LE(len["p95"], len["max"]);

  auto cli = run_command({mlxt_binary(),
                          "data",
                          "stats",
                          (data_dir() / "datasets/echo").string(),
                          "--model",
                          (data_dir() / "models/tiny").string()});
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      cli.output,
      m,
      std::regex(R"(min/median/p95/max: (\d+)/(\d+)/(\d+)/(\d+))")))
      << cli.output;
  EXPECT_EQ(std::stol(m[1].str()), len["min"].get<long>());
  EXPECT_EQ(std::stol(m[2].str()), len["median"].get<long>());
  EXPECT_EQ(std::stol(m[3].str()), len["p95"].get<long>());
  EXPECT_EQ(std::stol(m[4].str()), len["max"].get<long>());
}

TEST_F(ServerDataE2E, BadBodiesAreRefusedWithEveryProblem) {
  HttpClient c = client();
  auto r = c.post("/v1/datasets/stats",
                  json{{"pth", "datasets/echo"}, {"max_seq_length", "long"}});
  ASSERT_EQ(r.status, 400) << r.body;
  const std::string problems = r.json()["error"]["details"]["problems"].dump();
  for (const char* want : {"pth: unknown key",
                           "\\\"path\\\"",
                           "max_seq_length",
                           "path: required",
                           "model: required"}) {
    EXPECT_NE(problems.find(want), std::string::npos) << want << problems;
  }
  EXPECT_EQ(
      c.post("/v1/datasets/validate", json{{"path", "datasets/none"}}).status,
      404);
  EXPECT_EQ(c.post("/v1/datasets/validate",
                   json{{"path", "datasets/echo"}, {"format", "csv-ish"}})
                .status,
            400);
  EXPECT_EQ(c.post("/v1/datasets/validate", json{{"path", "../../etc"}}).status,
            403);
  auto doc = c.get("/openapi.json").json();
  for (const char* p : {"/v1/datasets/validate",
                        "/v1/datasets/convert",
                        "/v1/datasets/stats"}) {
    EXPECT_TRUE(doc["paths"].contains(p)) << p;
  }
}

TEST_F(ServerDataE2E, AutoConfigSuggestsAPlanThatFitsAndExplainsIt) {
  HttpClient p = server_->platform();
  auto r = p.post("/v1/auto-config",
                  json{{"model", "models/tiny"},
                       {"data", "datasets/echo"},
                       {"memory_gb", 1},
                       {"device", "cpu"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json a = r.json();
  EXPECT_EQ(a["method"], "full") << a.dump(); // a tiny model fits whole
  EXPECT_EQ(a["compute_dtype"], "float32");
  const int seq = a["max_seq_length"];
  EXPECT_EQ(seq % 32, 0);
  EXPECT_GE(seq, a["data"]["length"]["p95"].get<int>());
  json peak = a["estimated_peak_memory"];
  double parts = 0;
  for (const char* part :
       {"weights", "gradients", "optimizer_state", "activations", "logits"}) {
    ASSERT_TRUE(peak.contains(part)) << part;
    parts += peak[part]["bytes"].get<double>();
  }
  EXPECT_NEAR(parts, peak["total"]["bytes"].get<double>(), 8);
  EXPECT_LE(peak["total"]["gib"].get<double>(), 0.9);
  EXPECT_GE(a["reasoning"].size(), 3u);
  // The suggested config is one POST /v1/jobs accepts.
  json config = a["config"];
  config["iters"] = 1;
  auto job = client().post("/v1/jobs", config);
  EXPECT_EQ(job.status, 201) << job.body;
  if (job.status == 201) {
    const std::string id = job.json()["id"];
    client().post("/v1/jobs/" + id + "/stop", std::string());
  }

  // A budget nothing fits in, a missing memory, a path outside the roots.
  auto tight = p.post("/v1/auto-config",
                      json{{"model", "models/tiny"},
                           {"data", "datasets/echo"},
                           {"memory_bytes", 1000}});
  EXPECT_EQ(tight.status, 400) << tight.body;
  EXPECT_NE(tight.body.find("nothing fits"), std::string::npos);
  EXPECT_EQ(p.post("/v1/auto-config",
                   json{{"model", "models/tiny"}, {"data", "datasets/echo"}})
                .status,
            400);
  EXPECT_EQ(
      p.post(
           "/v1/auto-config",
           json{{"model", "/etc"}, {"data", "datasets/echo"}, {"memory_gb", 1}})
          .status,
      403);
}

// Issue 19.11: when only QLoRA fitted, the suggested config was plain LoRA
// over the dense float32 base, far over the budget: the trainer cannot
// quantize a base, so the answer says to quantize it first instead.
TEST_F(ServerDataE2E, AutoConfigQloraOverADenseBaseAsksForAQuantizedOne) {
  HttpClient p = server_->platform();
  // The smallest budget anything fits in: only QLoRA does.
  json a;
  for (double bytes = 1e5; bytes < 1e9 && a.is_null(); bytes *= 1.05) {
    auto r = p.post("/v1/auto-config",
                    json{{"model", "models/tiny"},
                         {"data", "datasets/echo"},
                         {"memory_bytes", bytes},
                         {"device", "cpu"}});
    ASSERT_TRUE(r.status == 200 || r.status == 400) << r.body;
    if (r.status == 200) {
      a = r.json();
    }
  }
  ASSERT_EQ(a["method"], "qlora") << a.dump();
  EXPECT_TRUE(a["config"].is_null()) << a.dump();
  const std::string next = a["next_step"];
  EXPECT_NE(next.find("quantize"), std::string::npos) << next;
}

// Asks the platform listener about models/tiny and `data` on a CPU.
ClientResponse ask_auto_config(HttpClient& p,
                               const std::string& data,
                               json extra = json::object()) {
  json body = {{"model", "models/tiny"},
               {"data", data},
               {"memory_gb", 1},
               {"device", "cpu"}};
  body.update(extra);
  return p.post("/v1/auto-config", body);
}

TEST_F(ServerDataE2E, AutoConfigTokenizesTheSameBytesOnce) {
  HttpClient p = server_->platform();
  // Bytes no other test measures (the cache is the server's): echo's rows
  // and one more.
  const std::string extra_row =
      R"({"messages": [{"role": "user", "content": "Echo: lantern"}, )"
      R"({"role": "assistant", "content": "lantern lantern"}]})"
      "\n";
  const std::string rows =
      read_file(data_dir() / "datasets/echo/train.jsonl") + extra_row;
  write_file(data_dir() / "datasets/measured/train.jsonl", rows);
  auto first = ask_auto_config(p, "datasets/measured");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json()["data"]["cached"], false);
  // Another budget, the same data: the lengths come from the cache.
  auto second = ask_auto_config(p, "datasets/measured", {{"memory_gb", 2}});
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.json()["data"]["cached"], true);
  EXPECT_EQ(second.json()["data"]["length"], first.json()["data"]["length"]);
  EXPECT_EQ(second.json()["data"]["examples"],
            first.json()["data"]["examples"]);
  // The key is the content, not the path: a copy is the same bytes.
  write_file(data_dir() / "datasets/measured_copy.jsonl", rows);
  auto copy = ask_auto_config(p, "datasets/measured_copy.jsonl");
  ASSERT_EQ(copy.status, 200) << copy.body;
  EXPECT_EQ(copy.json()["data"]["cached"], true);
  // An edited file is new bytes.
  write_file(data_dir() / "datasets/measured/train.jsonl", rows + extra_row);
  auto edited = ask_auto_config(p, "datasets/measured");
  ASSERT_EQ(edited.status, 200) << edited.body;
  EXPECT_EQ(edited.json()["data"]["cached"], false);
  EXPECT_EQ(edited.json()["data"]["examples"].get<int>(),
            first.json()["data"]["examples"].get<int>() + 1);
}

TEST_F(ServerDataE2E, AutoConfigTokenizesOffTheRequestThread) {
  HttpClient p = server_->platform();
  // Rows enough that tokenizing them takes a second or more.
  const int rows = 20000;
  std::string text;
  for (int i = 0; i < rows; ++i) {
    const std::string w = "word" + std::to_string(i);
    text += json{{"messages",
                  {{{"role", "user"}, {"content", "Echo: " + w}},
                   {{"role", "assistant"}, {"content", w + " " + w}}}}}
                .dump() +
            "\n";
  }
  write_file(data_dir() / "datasets/large.jsonl", text);
  // Not waiting: the answer comes before the data is tokenized, so the
  // request's thread is not the one tokenizing it.
  auto started =
      ask_auto_config(p, "datasets/large.jsonl", {{"wait_seconds", 0}});
  ASSERT_EQ(started.status, 202) << started.body;
  EXPECT_EQ(started.json()["state"], "measuring");
  // Both listeners answer meanwhile.
  EXPECT_EQ(p.get("/health").status, 200);
  EXPECT_EQ(client().get("/health").status, 200);
  // Waiting joins the measurement (or finds it done and cached).
  auto done =
      ask_auto_config(p, "datasets/large.jsonl", {{"wait_seconds", 600}});
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(done.json()["data"]["examples"], rows);
  auto again = ask_auto_config(p, "datasets/large.jsonl");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json()["data"]["cached"], true);
  EXPECT_EQ(
      ask_auto_config(p, "datasets/large.jsonl", {{"wait_seconds", -1}}).status,
      400);
}

TEST_F(ServerDataE2E, DashboardIsOnePageOverRoutesThatExist) {
  HttpClient c = client();
  auto page = c.get("/");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.content_type.find("text/html"), std::string::npos);
  EXPECT_NE(page.body.find("<table"), std::string::npos);
  // Every API path the page calls is a route of this listener.
  const json paths = c.get("/openapi.json").json()["paths"];
  for (const char* used : {"/v1/jobs",
                           "/v1/jobs/{id}",
                           "/v1/jobs/{id}/events",
                           "/v1/jobs/{id}/stop",
                           "/v1/jobs/{id}/resume"}) {
    EXPECT_TRUE(paths.contains(used)) << used;
  }
  for (const char* piece : {"\"/v1/jobs\"",
                            "\"/v1/jobs/\"",
                            "\"/events\"",
                            "\"/stop\"",
                            "\"/resume\"",
                            "Authorization"}) {
    EXPECT_NE(page.body.find(piece), std::string::npos) << piece;
  }
  EXPECT_TRUE(paths["/"]["get"]["security"].empty());
}

} // namespace
