// The real `mlxt` binary takes every flag in both spellings, `--batch_size`
// (the one --help shows) and `--batch-size`, with the same effect on
// `eval`, `generate` and `train`; every --help shows the defaults; and
// `generate --verbose` reports time to first token and tokens/s.
#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/test_support.h"
#include "support/training_fixtures.h"

namespace {

using namespace mlxt::testing;
namespace fs = std::filesystem;
using nlohmann::json;

class CliFlagsE2E : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    write_echo_chat_dataset(*dir_ / "data");
    ASSERT_EQ(init_tiny_model(*dir_ / "model", *dir_ / "data/train.jsonl"), "");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static std::string path(const std::string& name) {
    return (*dir_ / name).string();
  }

  // Runs `mlxt ARGS...`; expects exit status 0.
  static CommandResult mlxt(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {mlxt_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandResult r = run_command(argv);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r;
  }

  static TempDir* dir_;
};

TempDir* CliFlagsE2E::dir_ = nullptr;

TEST_F(CliFlagsE2E, EvalTakesBothSpellings) {
  const std::vector<std::string> common = {
      "eval", "--model", path("model"), "--data", path("data")};
  auto underscores = common;
  underscores.insert(
      underscores.end(),
      {"--batch_size", "2", "--max_seq_length", "64", "--mask_prompt"});
  auto dashes = common;
  dashes.insert(dashes.end(),
                {"--batch-size", "2", "--max-seq-length=64", "--mask-prompt"});
  auto a = json::parse(mlxt(underscores).output);
  auto b = json::parse(mlxt(dashes).output);
  EXPECT_EQ(a, b);
  // mask_prompt took effect: fewer scored tokens than without it.
  auto unmasked = json::parse(mlxt(common).output);
  EXPECT_LT(a["tokens"].get<int>(), unmasked["tokens"].get<int>());
}

TEST_F(CliFlagsE2E, GenerateTakesBothSpellingsAndReportsSpeed) {
  const std::vector<std::string> common = {
      "generate", "--model", path("model"), "--prompt", "Echo: apple"};
  auto underscores = common;
  underscores.insert(underscores.end(), {"--max_tokens", "5", "--top_p", "1"});
  auto dashes = common;
  dashes.insert(dashes.end(),
                {"--max-tokens", "5", "--top-p", "1", "--verbose"});
  auto a = mlxt(underscores);
  auto b = mlxt(dashes);
  // stdout carries the text; --verbose adds its lines after it (stderr).
  EXPECT_EQ(b.output.substr(0, a.output.size()), a.output);
  EXPECT_NE(b.output.find("prompt: "), std::string::npos) << b.output;
  EXPECT_NE(b.output.find("time to first token"), std::string::npos)
      << b.output;
  EXPECT_NE(b.output.find("generation: 5 tokens, "), std::string::npos)
      << b.output;
  EXPECT_EQ(a.output.find("tokens/s"), std::string::npos) << a.output;
}

// --prompts answers each row of a file after one model load, each as
// --prompt would; a bad row is named by file and line.
TEST_F(CliFlagsE2E, GeneratePromptsFileAnswersEveryRowLikePrompt) {
  write_file(
      dir_->path() / "prompts.jsonl",
      "{\"prompt\": \"Echo: apple\"}\n\n{\"prompt\": \"Echo: stone\"}\n");
  auto many = mlxt({"generate",
                    "--model",
                    path("model"),
                    "--prompts",
                    path("prompts.jsonl"),
                    "--max_tokens",
                    "5"});
  ASSERT_EQ(many.exit_code, 0) << many.output;
  std::vector<json> rows;
  std::istringstream lines(many.output);
  for (std::string line; std::getline(lines, line);) {
    rows.push_back(json::parse(line));
  }
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    auto one = mlxt({"generate",
                     "--model",
                     path("model"),
                     "--prompt",
                     row["prompt"],
                     "--max_tokens",
                     "5"});
    EXPECT_EQ(row["completion"].get<std::string>() + "\n", one.output);
  }
  write_file(dir_->path() / "bad.jsonl", "{\"prompt\": \"x\"}\n[1]\n");
  auto bad = run_command({mlxt_binary(),
                          "generate",
                          "--model",
                          path("model"),
                          "--prompts",
                          path("bad.jsonl")});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("bad.jsonl:2: prompt: "), std::string::npos)
      << bad.output;
}

TEST_F(CliFlagsE2E, TrainTakesBothSpellings) {
  auto train = [&](const std::string& run_id, bool dashed) {
    auto flag = [&](std::string key) {
      if (dashed) {
        std::replace(key.begin(), key.end(), '_', '-');
      }
      return "--" + key;
    };
    mlxt({"train",
          "--model",
          path("model"),
          "--data",
          path("data"),
          flag("runs_dir"),
          path("runs"),
          flag("run_id"),
          run_id,
          flag("adapter_path"),
          path("adapters-" + run_id),
          flag("fine_tune_type"),
          "lora",
          "--iters",
          "2",
          flag("batch_size"),
          "2",
          flag("mask_prompt"),
          "true",
          flag("lora_parameters.rank"),
          "4",
          flag("max_seq_length") + "=64",
          flag("save_every"),
          "0",
          flag("val_batches"),
          "1"});
    return json::parse(read_file(*dir_ / "runs" / run_id / "config.json"));
  };
  json a = train("underscores", false);
  json b = train("dashes", true);
  for (const json* c : {&a, &b}) {
    EXPECT_EQ((*c)["batch_size"], 2) << c->dump();
    EXPECT_EQ((*c)["mask_prompt"], true);
    EXPECT_EQ((*c)["lora_parameters"]["rank"], 4);
    EXPECT_EQ((*c)["max_seq_length"], 64);
  }
  a.erase("run_id"), b.erase("run_id");
  a.erase("adapter_path"), b.erase("adapter_path");
  EXPECT_EQ(a, b);
}

TEST_F(CliFlagsE2E, HelpShowsOneSpellingAndTheDefaults) {
  std::string eval = mlxt({"eval", "--help"}).output;
  EXPECT_NE(eval.find("--batch_size INT:POSITIVE=4"), std::string::npos)
      << eval;
  EXPECT_NE(eval.find("--split TEXT:{train,valid,test}=valid"),
            std::string::npos)
      << eval;
  EXPECT_EQ(eval.find("--batch-size"), std::string::npos) << eval;
  std::string generate = mlxt({"generate", "--help"}).output;
  EXPECT_NE(generate.find("--max_tokens INT:POSITIVE=100"), std::string::npos)
      << generate;
  EXPECT_EQ(generate.find("--max-tokens"), std::string::npos) << generate;
  std::string serve = mlxt({"serve", "--help"}).output;
  EXPECT_NE(serve.find("--framework_port INT=8500"), std::string::npos)
      << serve;
}

} // namespace
