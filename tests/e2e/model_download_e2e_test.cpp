// End-to-end: model downloads from a hub-like HTTP server on loopback (the
// Hugging Face tree and resolve routes, served by cpp-httplib in this test
// from a tiny model made by `mlxt init-model`), through the real
// `mlxt serve` (POST /v1/models/download as a job) and `mlxt models
// download`: only allowed files are fetched, a cut transfer continues with
// Range, a digest mismatch fails naming the file and leaves no model.
#include <httplib.h>

#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "mlxt/core/sha256.h"
#include "support/serve_fixture.h"
#include "support/test_support.h"
#include "support/training_fixtures.h"

namespace {

using namespace mlxt::testing;
using mlxt::server::HttpClient;
using nlohmann::json;
namespace fs = std::filesystem;

// Files a hub repository also holds that must never be fetched.
const std::vector<std::string> kRefused = {"pytorch_model.bin",
                                           "optimizer.pkl",
                                           "modeling_tiny.py",
                                           "sub/config.json"};

struct Repo {
  fs::path dir;
  bool wrong_digest = false;  // lists a wrong SHA-256 for model.safetensors
  bool cut_first_get = false; // the first GET of model.safetensors stops
                              // half-way
};

class FakeHub {
public:
  explicit FakeHub(std::map<std::string, Repo> repos)
      : repos_(std::move(repos)) {
    server_.Get(R"(/api/models/([^/]+/[^/]+)/tree/([^/?]+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  tree(req, res);
                });
    server_.Get(R"(/([^/]+/[^/]+)/resolve/([^/]+)/(.+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  resolve(req, res);
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    // The socket listens from bind on: requests wait in its backlog.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeHub() {
    server_.stop();
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }
  // "path range" of every file request so far.
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

private:
  void tree(const httplib::Request& req, httplib::Response& res) {
    auto it = repos_.find(req.matches[1]);
    if (it == repos_.end() || req.matches[2] != "main") {
      res.status = 404;
      return;
    }
    json entries = json::array();
    for (const auto& e : fs::recursive_directory_iterator(it->second.dir)) {
      if (!e.is_regular_file()) {
        continue;
      }
      const std::string path = fs::relative(e.path(), it->second.dir).string();
      json entry = {{"type", "file"},
                    {"path", path},
                    {"size", e.file_size()},
                    {"oid", mlxt::git_blob_sha1_file_hex(e.path())}};
      if (e.path().extension() == ".safetensors" ||
          e.path().extension() == ".bin") {
        std::string sha = mlxt::sha256_file_hex(e.path());
        if (it->second.wrong_digest) {
          sha = std::string(64, '0');
        }
        entry["lfs"] = {
            {"oid", sha}, {"size", e.file_size()}, {"pointerSize", 134}};
      }
      entries.push_back(entry);
    }
    res.set_content(entries.dump(), "application/json");
  }

  void resolve(const httplib::Request& req, httplib::Response& res) {
    auto it = repos_.find(req.matches[1]);
    const std::string path = req.matches[3];
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(path + " " + req.get_header_value("Range"));
    }
    if (it == repos_.end() || !fs::is_regular_file(it->second.dir / path)) {
      res.status = 404;
      return;
    }
    auto bytes =
        std::make_shared<std::string>(read_file(it->second.dir / path));
    bool cut = false;
    if (path == "model.safetensors" && it->second.cut_first_get) {
      std::lock_guard lock(mutex_);
      cut = !cut_done_;
      cut_done_ = true;
    }
    // httplib answers a Range request with 206 and asks for that slice.
    res.set_content_provider(
        bytes->size(),
        "application/octet-stream",
        [bytes, cut](size_t offset, size_t length, httplib::DataSink& sink) {
          if (cut) {
            sink.write(bytes->data() + offset, length / 2);
            return false; // the connection drops mid-file
          }
          sink.write(bytes->data() + offset, length);
          return true;
        });
  }

  std::map<std::string, Repo> repos_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> requests_;
  bool cut_done_ = false;
};

class ModelDownloadE2E : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    write_echo_chat_dataset(dir_->path() / "echo");
    const fs::path repo = dir_->path() / "hub/tiny";
    ASSERT_EQ(init_tiny_model(repo, dir_->path() / "echo/train.jsonl"), "");
    // A model file big enough that half of it is a real partial transfer.
    ASSERT_GT(fs::file_size(repo / "model.safetensors"), 100000u);
    for (const std::string& name : kRefused) {
      write_file(repo / name, "not for download: " + name);
    }
  }
  static void TearDownTestSuite() { delete dir_; }

  static fs::path repo_dir() { return dir_->path() / "hub/tiny"; }

  // The files a download must produce: the allowed top-level ones.
  static std::vector<std::string> allowed_files() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(repo_dir())) {
      const std::string name = e.path().filename().string();
      if (e.is_regular_file() &&
          std::find(kRefused.begin(), kRefused.end(), name) == kRefused.end()) {
        names.push_back(name);
      }
    }
    return names;
  }

  static void expect_same_model(const fs::path& got) {
    const auto names = allowed_files();
    ASSERT_GE(names.size(), 3u);
    for (const std::string& name : names) {
      ASSERT_TRUE(fs::exists(got / name)) << name;
      EXPECT_EQ(read_file(got / name), read_file(repo_dir() / name)) << name;
    }
    for (const std::string& name : kRefused) {
      EXPECT_FALSE(fs::exists(got / name)) << name;
    }
  }

  static void expect_never_requested_refused(FakeHub& hub) {
    for (const std::string& r : hub.requests()) {
      for (const std::string& name : kRefused) {
        EXPECT_FALSE(r.starts_with(name + " ")) << r;
      }
    }
  }

  static TempDir* dir_;
  TempDir work_;
};

TempDir* ModelDownloadE2E::dir_ = nullptr;

TEST_F(ModelDownloadE2E, ServerJobResumesACutTransferAndPlacesTheModel) {
  FakeHub hub({{"acme/tiny", {.dir = repo_dir(), .cut_first_get = true}}});
  Server server(work_ / "data", {"--hub-url", hub.url()});
  server.start();
  HttpClient c = server.framework();

  auto r = c.post("/v1/models/download", json{{"repo", "acme/tiny"}});
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = r.json()["id"];
  EXPECT_EQ(r.json()["kind"], "download");
  json job;
  ASSERT_TRUE(eventually([&] {
    job = c.get("/v1/jobs/" + id).json();
    return job["state"] != "queued" && job["state"] != "running";
  })) << job.dump();
  ASSERT_EQ(job["state"], "completed")
      << job.dump() << c.get("/v1/jobs/" + id + "/logs").body;
  EXPECT_EQ(job["progress"]["fraction"], 1.0) << job["progress"].dump();
  EXPECT_EQ(job["progress"]["files_done"], allowed_files().size());
  EXPECT_EQ(job["progress"]["skipped"].size(), kRefused.size());

  const fs::path model = work_ / "data/models/acme--tiny";
  expect_same_model(model);
  EXPECT_FALSE(fs::exists(work_ / "data/downloads/acme--tiny"));
  expect_never_requested_refused(hub);
  // The cut transfer was continued where it stopped, not restarted.
  bool ranged = false;
  for (const std::string& req : hub.requests()) {
    if (req.starts_with("model.safetensors bytes=") &&
        !req.ends_with("bytes=0-")) {
      ranged = true;
    }
  }
  EXPECT_TRUE(ranged) << json(hub.requests()).dump();

  auto models = c.get("/v1/models").json()["models"];
  ASSERT_EQ(models.size(), 1u) << models.dump();
  EXPECT_EQ(models[0]["name"], "acme--tiny");
  EXPECT_EQ(models[0]["architecture"], "llama");
  // The folder exists now: a second download of it is refused.
  EXPECT_EQ(c.post("/v1/models/download", json{{"repo", "acme/tiny"}}).status,
            409);
  EXPECT_EQ(c.post("/v1/models/download", json{{"repo", "../etc"}}).status,
            400);
  EXPECT_EQ(c.post("/v1/models/download",
                   json{{"repo", "acme/tiny"}, {"name", "../../x"}})
                .status,
            400);
}

TEST_F(ModelDownloadE2E, DigestMismatchFailsNamingTheFileAndLeavesNoModel) {
  FakeHub hub({{"acme/corrupt", {.dir = repo_dir(), .wrong_digest = true}}});
  Server server(work_ / "data", {"--hub-url", hub.url()});
  server.start();
  HttpClient c = server.framework();
  auto r = c.post("/v1/models/download", json{{"repo", "acme/corrupt"}});
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = r.json()["id"];
  json job;
  ASSERT_TRUE(eventually([&] {
    job = c.get("/v1/jobs/" + id).json();
    return job["state"] == "failed" || job["state"] == "completed";
  })) << job.dump();
  ASSERT_EQ(job["state"], "failed") << job.dump();
  const std::string reason = job["reason"];
  EXPECT_NE(reason.find("model.safetensors"), std::string::npos) << reason;
  EXPECT_NE(reason.find("SHA-256 mismatch"), std::string::npos) << reason;
  EXPECT_FALSE(fs::exists(work_ / "data/models/acme--corrupt"));
  EXPECT_FALSE(fs::exists(
      work_ / "data/downloads/acme--corrupt/model.safetensors.partial"));
  EXPECT_FALSE(
      fs::exists(work_ / "data/downloads/acme--corrupt/model.safetensors"));
  EXPECT_EQ(c.get("/v1/models").json()["models"].size(), 0u);
}

TEST_F(ModelDownloadE2E, CommandLineDownloadsDirectly) {
  FakeHub hub({{"acme/tiny", {.dir = repo_dir()}}});
  const fs::path out = work_ / "models/tiny";
  auto r = run_command({mlxt_binary(),
                        "models",
                        "download",
                        "acme/tiny",
                        "--hub-url",
                        hub.url(),
                        "--out",
                        out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_same_model(out);
  expect_never_requested_refused(hub);
  EXPECT_FALSE(fs::exists(work_ / "models/.tiny.download"));

  auto missing = run_command({mlxt_binary(),
                              "models",
                              "download",
                              "acme/none",
                              "--out",
                              (work_ / "models/none").string()},
                             {{"HF_ENDPOINT", hub.url()}});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("not_found"), std::string::npos)
      << missing.output;
  auto bad = run_command(
      {mlxt_binary(), "models", "download", "a/b/c", "--hub-url", hub.url()});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("not a repository id"), std::string::npos)
      << bad.output;
}

} // namespace
