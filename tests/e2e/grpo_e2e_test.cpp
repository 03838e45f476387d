// End-to-end: `mlxt train --method grpo` samples groups of completions from
// the tiny model's LoRA policy, rewards them with a verifiable rule, and
// trains through the one loop: the mean reward rises while the KL to the
// reference stays bounded, and a run killed mid-way and resumed reports the
// uninterrupted run's metrics bit for bit.
#include <csignal>

#include <nlohmann/json.hpp>

#include "support/test_support.h"
#include "support/training_fixtures.h"

namespace {

using namespace mlxt::testing;
namespace fs = std::filesystem;
using nlohmann::json;

class GrpoE2E : public ::testing::Test {
protected:
  void SetUp() override {
    write_letter_prompts(dir_ / "data");
    ASSERT_EQ(init_tiny_model(dir_ / "model", dir_ / "data/corpus.txt"), "");
    fs::remove(dir_ / "data/corpus.txt");
  }

  CommandResult train(const std::vector<std::string>& extra,
                      const std::string& run_id = "run",
                      const std::string& failpoints = "") {
    // The task: write_letter_prompts' "contains o".
    std::vector<std::string> args = train_command("grpo",
                                                  dir_.path(),
                                                  run_id,
                                                  {"--reward",
                                                   "contains",
                                                   "--num_generations",
                                                   "8",
                                                   "--batch_size",
                                                   "16",
                                                   "--max_completion_length",
                                                   "6",
                                                   "--max_seq_length",
                                                   "64",
                                                   "--iters",
                                                   "30",
                                                   "--steps_per_report",
                                                   "1",
                                                   "--steps_per_eval",
                                                   "1000",
                                                   "--save_every",
                                                   "0",
                                                   "--learning_rate",
                                                   "5e-4",
                                                   "--kl_coef",
                                                   "0.1",
                                                   "--num_layers",
                                                   "-1"});
    args.insert(args.end(), extra.begin(), extra.end());
    return run_with_failpoints(args, failpoints);
  }

  TempDir dir_;
};

TEST_F(GrpoE2E, MeanRewardRisesWithTheKlBounded) {
  auto r = train({});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto records = read_metrics(dir_ / "runs/run/metrics.jsonl");
  auto trains = metric_events(records, "train");
  ASSERT_EQ(trains.size(), 30u);
  for (const char* key :
       {"reward", "reward_std", "completion_length", "kl", "clip_fraction"}) {
    ASSERT_TRUE(trains.front().contains(key)) << trains.front().dump();
  }
  // LoRA's B starts at zero: the first step's policy is the reference.
  EXPECT_NEAR(trains.front()["kl"].get<double>(), 0.0, 1e-6);
  // On-policy, the ratio is 1: nothing is clipped.
  EXPECT_EQ(trains.back()["clip_fraction"].get<double>(), 0.0);
  const double first = mean_of(trains, 0, 5, "reward");
  const double last = mean_of(trains, 25, 30, "reward");
  // Measured: about 0.19 over the first 5 steps, 1.0 over the last 5.
  EXPECT_GT(last, first + 0.4)
      << "first 5 steps " << first << ", last 5 " << last;
  // The KL per completion token settles at about 2 to 4 nats (the policy
  // has to move far from a random model to write the letter every time);
  // bounded, never running away.
  for (const auto& t : trains) {
    EXPECT_LT(t["kl"].get<double>(), 8.0) << t.dump();
  }
  // Validation: greedy completions, their reward before and after.
  auto evals = metric_events(records, "eval");
  ASSERT_EQ(evals.size(), 2u);
  EXPECT_GE(evals.back()["val_reward"].get<double>(),
            evals.front()["val_reward"].get<double>());
  EXPECT_TRUE(fs::exists(dir_ / "adapters-run/adapters.safetensors"));
}

TEST_F(GrpoE2E, KilledAndResumedMatchesTheUninterruptedRun) {
  const std::vector<std::string> args = {
      "--save_every", "4", "--iters", "10", "--steps_per_eval", "1000"};
  auto whole = train(args, "whole");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  // Killed after step 6 (newest checkpoint: 4), then resumed.
  auto killed = train(args, "killed", "train.step:6");
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.output;
  auto resumed = run_command(
      {mlxt_binary(), "train", "--resume", (dir_ / "runs/killed").string()});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  auto records = read_metrics(dir_ / "runs/killed/metrics.jsonl");
  auto resumes = metric_events(records, "resume");
  ASSERT_EQ(resumes.size(), 1u);
  EXPECT_EQ(resumes[0]["step"], 4);
  EXPECT_EQ(resumes[0]["exact"], true);
  // Steps 5..10 of the resumed run report what the uninterrupted run did.
  ASSERT_EQ(
      metric_events(read_metrics(dir_ / "runs/whole/metrics.jsonl"), "train")
          .size(),
      10u);
  expect_resumed_run_matches(dir_ / "runs", "whole", "killed", 10);
}

// Full fine-tuning trains against a frozen copy of the starting weights:
// the first step's policy is the reference.
TEST_F(GrpoE2E, FullFineTuningTrainsAgainstAFrozenCopy) {
  auto r = train({"--fine_tune_type", "full", "--iters", "4"}, "full");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto records = read_metrics(dir_ / "runs/full/metrics.jsonl");
  EXPECT_EQ(metric_events(records, "start")[0]["reference"],
            "starting_weights");
  auto trains = metric_events(records, "train");
  ASSERT_EQ(trains.size(), 4u);
  EXPECT_NEAR(trains.front()["kl"].get<double>(), 0.0, 1e-6);
  EXPECT_GT(trains.back()["kl"].get<double>(), 1e-4);
  EXPECT_TRUE(fs::exists(dir_ / "adapters-full/model.safetensors"));
}

TEST_F(GrpoE2E, WrongSetupsAreRefusedNamingTheKey) {
  auto odd = train({"--batch_size", "12"});
  EXPECT_NE(odd.exit_code, 0);
  EXPECT_NE(odd.output.find("batch_size"), std::string::npos) << odd.output;
  auto packed = train({"--pack_sequences", "true"});
  EXPECT_NE(packed.exit_code, 0);
  EXPECT_NE(packed.output.find("pack_sequences"), std::string::npos)
      << packed.output;
  write_file(dir_ / "data/train.jsonl",
             json{{"prompt", "Say: apple"}}.dump() + "\n");
  auto no_answer = train({});
  EXPECT_NE(no_answer.exit_code, 0);
  EXPECT_NE(no_answer.output.find("answer"), std::string::npos)
      << no_answer.output;
  EXPECT_NE(no_answer.output.find("train.jsonl"), std::string::npos)
      << no_answer.output;
}

} // namespace
