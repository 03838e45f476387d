// End-to-end: `mlxt train --method dpo` trains LoRA adapters on preference
// pairs through the one training loop, against the base model as reference.
#include <cmath>
#include <csignal>

#include <nlohmann/json.hpp>

#include "mlxt/core/sha256.h"
#include "support/test_support.h"
#include "support/training_fixtures.h"

namespace {

using namespace mlxt::testing;
namespace fs = std::filesystem;
using nlohmann::json;

// "Echo: <word>": chosen repeats the word twice, rejected says "no".
void write_echo_preferences(const fs::path& dir) {
  const std::vector<std::string> words = {
      "apple", "river", "stone", "cloud", "tiger", "maple", "ocean", "piano"};
  auto row = [](const std::string& w) {
    return json{{"prompt", "Echo: " + w},
                {"chosen", w + " " + w},
                {"rejected", "no"}}
               .dump() +
           "\n";
  };
  std::string train, valid;
  for (int rep = 0; rep < 2; ++rep) {
    for (const auto& w : words) {
      train += row(w);
    }
  }
  for (size_t i = 0; i < words.size(); i += 2) {
    valid += row(words[i]);
  }
  write_file(dir / "train.jsonl", train);
  write_file(dir / "valid.jsonl", valid);
}

class DpoE2E : public ::testing::Test {
protected:
  void SetUp() override {
    write_echo_preferences(dir_ / "data");
    ASSERT_EQ(init_tiny_model(dir_ / "model", dir_ / "data/train.jsonl"), "");
  }

  CommandResult train(const std::vector<std::string>& extra,
                      const std::string& run_id = "run",
                      const std::string& failpoints = "") {
    std::vector<std::string> args = {mlxt_binary(),
                                     "train",
                                     "--method",
                                     "dpo",
                                     "--model",
                                     (dir_ / "model").string(),
                                     "--data",
                                     (dir_ / "data").string(),
                                     "--runs_dir",
                                     (dir_ / "runs").string(),
                                     "--run_id",
                                     run_id,
                                     "--adapter_path",
                                     (dir_ / "adapters").string(),
                                     "--batch_size",
                                     "4",
                                     "--iters",
                                     "20",
                                     "--steps_per_report",
                                     "1",
                                     "--steps_per_eval",
                                     "20",
                                     "--val_batches",
                                     "-1",
                                     "--save_every",
                                     "0",
                                     "--max_seq_length",
                                     "64",
                                     "--learning_rate",
                                     "5e-3",
                                     "--num_layers",
                                     "-1"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<std::pair<std::string, std::string>> env;
    if (!failpoints.empty()) {
      env.emplace_back("MLXT_FAILPOINTS", failpoints);
    }
    return run_command(args, env);
  }

  TempDir dir_;
};

TEST_F(DpoE2E, LoraStartsAtLogTwoAndTheMarginRises) {
  auto r = train({"--fine_tune_type", "lora", "--beta", "0.1"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto records = read_metrics(dir_ / "runs/run/metrics.jsonl");
  auto trains = metric_events(records, "train");
  ASSERT_EQ(trains.size(), 20u);
  for (const char* key : {"rewards_chosen",
                          "rewards_rejected",
                          "reward_margin",
                          "reward_accuracy"}) {
    ASSERT_TRUE(trains.front().contains(key)) << trains.front().dump();
  }
  // LoRA's B starts at zero: the policy is the reference, every margin 0.
  EXPECT_NEAR(trains.front()["loss"].get<double>(), std::log(2.0), 1e-4);
  EXPECT_NEAR(trains.front()["reward_margin"].get<double>(), 0.0, 1e-4);
  EXPECT_GT(trains.back()["reward_margin"].get<double>(), 0.1)
      << trains.back().dump();
  EXPECT_LT(trains.back()["loss"].get<double>(), std::log(2.0));
  auto evals = metric_events(records, "eval");
  ASSERT_FALSE(evals.empty());
  EXPECT_TRUE(evals.back().contains("val_reward_accuracy"))
      << evals.back().dump();
  EXPECT_TRUE(fs::exists(dir_ / "adapters/adapters.safetensors"));
}

TEST_F(DpoE2E, KilledAndResumedMatchesTheUninterruptedRun) {
  const std::vector<std::string> args = {
      "--fine_tune_type", "lora", "--save_every", "5", "--iters", "12"};
  auto whole = train(args, "whole");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  // Killed after step 7 (newest checkpoint: 5), then resumed.
  auto killed = train(args, "killed", "train.step:7");
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.output;
  auto resumed = run_command(
      {mlxt_binary(), "train", "--resume", (dir_ / "runs/killed").string()});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  auto records = read_metrics(dir_ / "runs/killed/metrics.jsonl");
  auto resumes = metric_events(records, "resume");
  ASSERT_EQ(resumes.size(), 1u);
  EXPECT_EQ(resumes[0]["step"], 5);
  auto digest = [this](const std::string& run_id) {
    const fs::path file = dir_ / "runs" / run_id /
                          "checkpoints/step-00000012/trainable.safetensors";
    EXPECT_TRUE(fs::exists(file)) << file;
    return mlxt::sha256_file_hex(file);
  };
  EXPECT_EQ(digest("killed"), digest("whole"));
}

TEST_F(DpoE2E, FullFineTuningIsRefusedNamingTheMethod) {
  auto r = train({"--fine_tune_type", "full"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("method"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("lora"), std::string::npos) << r.output;
}

TEST_F(DpoE2E, PackingIsRefusedNamingTheKey) {
  auto r = train({"--fine_tune_type", "lora", "--pack_sequences", "true"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("pack_sequences"), std::string::npos) << r.output;
}

TEST_F(DpoE2E, ChatRowsAreRefusedNamingTheFile) {
  write_file(dir_ / "data/train.jsonl",
             json{{"messages",
                   {{{"role", "user"}, {"content", "hi"}},
                    {{"role", "assistant"}, {"content", "yo"}}}}}
                     .dump() +
                 "\n");
  auto r = train({"--fine_tune_type", "lora"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("preference"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("train.jsonl"), std::string::npos) << r.output;
}

} // namespace
