// End-to-end: `mlxt train --method dpo` trains on preference pairs through
// the one training loop: LoRA against the base model, against the starting
// adapters, full fine-tuning against a ref_model, precomputed and cached
// reference log-probs, the reference-free losses, and the refused
// combinations.
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
    return run_with_failpoints(args, failpoints);
  }

  // Runs `args` as run "killed", SIGKILLed after step 7 (newest checkpoint:
  // 5), then resumes it to the end.
  void kill_and_resume(const std::vector<std::string>& args) {
    auto killed = train(args, "killed", "train.step:7");
    ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.output;
    auto resumed = run_command(
        {mlxt_binary(), "train", "--resume", (dir_ / "runs/killed").string()});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  }

  // The digest of run `run_id`'s step-12 checkpoint's trainable arrays.
  std::string final_digest(const std::string& run_id) {
    const fs::path file = dir_ / "runs" / run_id /
                          "checkpoints/step-00000012/trainable.safetensors";
    EXPECT_TRUE(fs::exists(file)) << file;
    return fs::exists(file) ? mlxt::sha256_file_hex(file) : "";
  }

  // The records of run `run_id`, and the reference its start record names.
  std::vector<json> records_of(const std::string& run_id) {
    return read_metrics(dir_ / "runs" / run_id / "metrics.jsonl");
  }
  static std::string reference_of(const std::vector<json>& records) {
    auto start = metric_events(records, "start");
    return start.size() == 1 ? start[0].value("reference", "") : "";
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
  kill_and_resume(args);
  auto resumes = metric_events(records_of("killed"), "resume");
  ASSERT_EQ(resumes.size(), 1u);
  EXPECT_EQ(resumes[0]["step"], 5);
  EXPECT_EQ(final_digest("killed"), final_digest("whole"));
}

TEST_F(DpoE2E, FullFineTuningAgainstARefModelTrainsAndResumesExactly) {
  const std::vector<std::string> args = {"--fine_tune_type",
                                         "full",
                                         "--ref_model",
                                         (dir_ / "model").string(),
                                         "--learning_rate",
                                         "1e-3",
                                         "--save_every",
                                         "5",
                                         "--iters",
                                         "12",
                                         "--adapter_path",
                                         (dir_ / "full_out").string()};
  auto whole = train(args, "whole");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  auto records = records_of("whole");
  EXPECT_EQ(reference_of(records), "ref_model");
  auto trains = metric_events(records, "train");
  ASSERT_EQ(trains.size(), 12u);
  // The reference is the starting model: every margin starts at 0.
  EXPECT_NEAR(trains.front()["loss"].get<double>(), std::log(2.0), 1e-4);
  EXPECT_NEAR(trains.front()["reward_margin"].get<double>(), 0.0, 1e-4);
  EXPECT_GT(trains.back()["reward_margin"].get<double>(), 0.05)
      << trains.back().dump();
  EXPECT_TRUE(fs::exists(dir_ / "full_out/model.safetensors"));
  kill_and_resume(args);
  EXPECT_EQ(final_digest("killed"), final_digest("whole"));
}

TEST_F(DpoE2E, FullFineTuningWithoutRefModelStartsFromItsOwnCopy) {
  auto r = train({"--fine_tune_type",
                  "full",
                  "--iters",
                  "2",
                  "--adapter_path",
                  (dir_ / "full_out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto records = records_of("run");
  EXPECT_EQ(reference_of(records), "starting_weights");
  auto trains = metric_events(records, "train");
  ASSERT_FALSE(trains.empty());
  EXPECT_NEAR(trains.front()["loss"].get<double>(), std::log(2.0), 1e-4);
}

TEST_F(DpoE2E, LoraFromAdaptersComparesWithTheStartingAdapters) {
  // Adapters that prefer the chosen answers: the starting point of a run
  // that continues from them (an SFT -> DPO hand-over).
  auto first = train({"--fine_tune_type", "lora", "--iters", "8"}, "first");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto r = train({"--fine_tune_type",
                  "lora",
                  "--iters",
                  "2",
                  "--resume_adapter_file",
                  (dir_ / "adapters/adapters.safetensors").string(),
                  "--adapter_path",
                  (dir_ / "adapters2").string()},
                 "second");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto records = records_of("second");
  EXPECT_EQ(reference_of(records), "base_with_starting_adapters");
  // Policy and reference are both base + starting adapters at step 0,
  // although the policy is far from the bare base by now.
  auto trains = metric_events(records, "train");
  ASSERT_FALSE(trains.empty());
  EXPECT_NEAR(trains.front()["loss"].get<double>(), std::log(2.0), 1e-5);
  EXPECT_NEAR(trains.front()["reward_margin"].get<double>(), 0.0, 1e-5);
  EXPECT_NEAR(trains.front()["rewards_chosen"].get<double>(), 0.0, 1e-5);
  auto evals = metric_events(records, "eval");
  ASSERT_FALSE(evals.empty());
  EXPECT_NEAR(evals.front()["val_loss"].get<double>(), std::log(2.0), 1e-5);
  // Against the bare base the same start is far from log 2.
  EXPECT_GT(metric_events(records_of("first"), "eval")
                .back()["val_reward_margin"]
                .get<double>(),
            0.05);
}

TEST_F(DpoE2E, PrecomputedReferenceIsCachedReusedAndResumesExactly) {
  const std::vector<std::string> args = {"--fine_tune_type",
                                         "lora",
                                         "--precompute_ref_log_probs",
                                         "true",
                                         "--save_every",
                                         "5",
                                         "--iters",
                                         "12"};
  auto whole = train(args, "whole");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  auto records = records_of("whole");
  auto built = metric_events(records, "ref_logprobs");
  ASSERT_EQ(built.size(), 2u); // train and valid
  for (const auto& b : built) {
    EXPECT_FALSE(b["reused"].get<bool>()) << b.dump();
    EXPECT_TRUE(fs::exists(b["path"].get<std::string>())) << b.dump();
  }
  auto trains = metric_events(records, "train");
  ASSERT_EQ(trains.size(), 12u);
  EXPECT_NEAR(trains.front()["loss"].get<double>(), std::log(2.0), 1e-4);
  // A second run reuses the cache; killed and resumed, it ends where the
  // first did.
  kill_and_resume(args);
  auto again = records_of("killed");
  auto reused = metric_events(again, "ref_logprobs");
  ASSERT_EQ(reused.size(), 4u); // the killed run's and the resumed run's
  for (const auto& b : reused) {
    EXPECT_TRUE(b["reused"].get<bool>()) << b.dump();
  }
  EXPECT_EQ(final_digest("killed"), final_digest("whole"));
}

TEST_F(DpoE2E, ReferenceFreeLossesTrainAndReportTheirMetrics) {
  for (const std::string loss : {"simpo", "orpo"}) {
    auto r = train({"--fine_tune_type",
                    "lora",
                    "--loss_type",
                    loss,
                    "--beta",
                    loss == "simpo" ? "2.0" : "0.1",
                    "--iters",
                    "10"},
                   loss);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto records = records_of(loss);
    EXPECT_EQ(reference_of(records), "none");
    auto trains = metric_events(records, "train");
    ASSERT_EQ(trains.size(), 10u);
    EXPECT_LT(trains.back()["loss"].get<double>(),
              trains.front()["loss"].get<double>())
        << loss;
    EXPECT_GT(trains.back()["reward_margin"].get<double>(),
              trains.front()["reward_margin"].get<double>())
        << loss;
    if (loss == "orpo") {
      EXPECT_TRUE(trains.back().contains("nll_loss")) << trains.back().dump();
      EXPECT_TRUE(trains.back().contains("log_odds_ratio"));
    }
    auto evals = metric_events(records, "eval");
    ASSERT_FALSE(evals.empty());
    EXPECT_TRUE(evals.back().contains("val_reward_accuracy"));
  }
}

TEST_F(DpoE2E, ARefModelWithAnotherVocabularyIsRefused) {
  write_file(dir_ / "other.txt",
             "completely different corpus, other merges, other tokens\n");
  ASSERT_EQ(init_tiny_model(dir_ / "other", dir_ / "other.txt"), "");
  auto r = train({"--fine_tune_type",
                  "full",
                  "--ref_model",
                  (dir_ / "other").string(),
                  "--adapter_path",
                  (dir_ / "full_out").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("ref_model"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("vocabulary"), std::string::npos) << r.output;
}

TEST_F(DpoE2E, KeysTheLossHasNoUseForAreRefusedNamingThem) {
  struct Case {
    std::vector<std::string> args;
    std::string key;
  };
  const std::vector<Case> cases = {
      {{"--loss_type", "simpo", "--ref_model", (dir_ / "model").string()},
       "ref_model"},
      {{"--loss_type", "orpo", "--precompute_ref_log_probs", "true"},
       "precompute_ref_log_probs"},
      {{"--loss_type", "orpo", "--label_smoothing", "0.1"}, "label_smoothing"},
      {{"--loss_type", "ipo", "--label_smoothing", "0.1"}, "label_smoothing"},
      {{"--loss_type", "hinge", "--label_smoothing", "0.1"},
       "label_smoothing"}};
  for (const auto& c : cases) {
    std::vector<std::string> args = {"--fine_tune_type", "lora"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = train(args);
    EXPECT_NE(r.exit_code, 0) << c.key;
    EXPECT_NE(r.output.find(c.key), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("loss_type"), std::string::npos) << r.output;
  }
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
