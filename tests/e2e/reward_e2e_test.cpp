// End-to-end: `mlxt train --method reward` trains a scalar head (and LoRA
// adapters or every weight) on preference pairs through the one training
// loop, and `mlxt score` reads the saved reward model back.
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

const std::vector<std::string> kTrainWords = {"apple",
                                              "river",
                                              "stone",
                                              "cloud",
                                              "tiger",
                                              "maple",
                                              "ocean",
                                              "piano",
                                              "candle",
                                              "forest",
                                              "silver",
                                              "rocket",
                                              "garden",
                                              "window",
                                              "bridge",
                                              "violet"};
// Held out: the rule must generalise to words never trained on.
const std::vector<std::string> kValidWords = {"amber",
                                              "canyon",
                                              "desert",
                                              "falcon",
                                              "harbor",
                                              "island",
                                              "jungle",
                                              "lemon"};

std::string pair_row(const std::string& w) {
  // The rule: the chosen answer ends with "please".
  return json{{"prompt", "Name: " + w},
              {"chosen", w + " please"},
              {"rejected", w + " now"}}
             .dump() +
         "\n";
}

void write_rule_preferences(const fs::path& dir) {
  std::string train, valid;
  for (int rep = 0; rep < 2; ++rep) {
    for (const auto& w : kTrainWords) {
      train += pair_row(w);
    }
  }
  for (const auto& w : kValidWords) {
    valid += pair_row(w);
  }
  write_file(dir / "train.jsonl", train);
  write_file(dir / "valid.jsonl", valid);
}

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '{') {
      out.push_back(json::parse(line));
    }
  }
  return out;
}

class RewardE2E : public ::testing::Test {
protected:
  void SetUp() override {
    write_rule_preferences(dir_ / "data");
    ASSERT_EQ(init_tiny_model(dir_ / "model", dir_ / "data/train.jsonl"), "");
  }

  CommandResult train(const std::vector<std::string>& extra,
                      const std::string& run_id = "run",
                      const std::string& failpoints = "") {
    std::vector<std::string> args = {mlxt_binary(),
                                     "train",
                                     "--method",
                                     "reward",
                                     "--model",
                                     (dir_ / "model").string(),
                                     "--data",
                                     (dir_ / "data").string(),
                                     "--runs_dir",
                                     (dir_ / "runs").string(),
                                     "--run_id",
                                     run_id,
                                     "--adapter_path",
                                     (dir_ / "out").string(),
                                     "--batch_size",
                                     "4",
                                     "--iters",
                                     "40",
                                     "--steps_per_report",
                                     "1",
                                     "--steps_per_eval",
                                     "40",
                                     "--val_batches",
                                     "-1",
                                     "--save_every",
                                     "0",
                                     "--max_seq_length",
                                     "64",
                                     "--learning_rate",
                                     "1e-3",
                                     "--num_layers",
                                     "-1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_with_failpoints(args, failpoints);
  }

  // `mlxt score` of the validation pairs, batched as validation batches them.
  std::vector<json> score(const std::vector<std::string>& model_args,
                          const std::string& file = "data/valid.jsonl") {
    std::vector<std::string> args = {mlxt_binary(),
                                     "score",
                                     "--data",
                                     (dir_ / file).string(),
                                     "--batch_size",
                                     "4",
                                     "--max_seq_length",
                                     "64",
                                     "--out",
                                     (dir_ / "scores.jsonl").string()};
    args.insert(args.end(), model_args.begin(), model_args.end());
    auto r = run_command(args);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return json_lines(read_file(dir_ / "scores.jsonl"));
  }

  // The validation record at the end of the run equals what `score` reads
  // back from the saved model: the same rewards, the same accuracy.
  void expect_scores_match_last_eval(const std::vector<json>& scores) {
    auto evals =
        metric_events(read_metrics(dir_ / "runs/run/metrics.jsonl"), "eval");
    ASSERT_FALSE(evals.empty());
    const json& last = evals.back();
    ASSERT_EQ(scores.size(), kValidWords.size());
    double chosen = 0, rejected = 0, right = 0;
    for (size_t i = 0; i < scores.size(); ++i) {
      EXPECT_EQ(scores[i]["index"], i);
      chosen += scores[i]["chosen"].get<double>();
      rejected += scores[i]["rejected"].get<double>();
      right += scores[i]["chosen"] > scores[i]["rejected"];
    }
    const double n = static_cast<double>(scores.size());
    EXPECT_NEAR(chosen / n, last["val_rewards_chosen"].get<double>(), 1e-5);
    EXPECT_NEAR(rejected / n, last["val_rewards_rejected"].get<double>(), 1e-5);
    EXPECT_DOUBLE_EQ(right / n, last["val_reward_accuracy"].get<double>());
  }

  TempDir dir_;
};

TEST_F(RewardE2E, LoraLearnsAHeldOutRuleAndScoresRoundTrip) {
  auto r = train({"--fine_tune_type", "lora"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto records = read_metrics(dir_ / "runs/run/metrics.jsonl");
  auto trains = metric_events(records, "train");
  ASSERT_EQ(trains.size(), 40u);
  for (const char* key : {"rewards_chosen",
                          "rewards_rejected",
                          "reward_margin",
                          "reward_accuracy"}) {
    ASSERT_TRUE(trains.front().contains(key)) << trains.front().dump();
  }
  EXPECT_LT(trains.back()["loss"].get<double>(),
            trains.front()["loss"].get<double>());
  auto evals = metric_events(records, "eval");
  ASSERT_EQ(evals.size(), 2u); // before training and at the end
  EXPECT_LT(evals.front()["val_reward_accuracy"].get<double>(), 0.9)
      << evals.front().dump();
  EXPECT_GE(evals.back()["val_reward_accuracy"].get<double>(), 0.9)
      << evals.back().dump();
  EXPECT_TRUE(fs::exists(dir_ / "out/adapters.safetensors"));
  EXPECT_TRUE(fs::exists(dir_ / "out/score.safetensors"));
  expect_scores_match_last_eval(score({"--model",
                                       (dir_ / "model").string(),
                                       "--adapter",
                                       (dir_ / "out").string()}));
}

// RLHF from the command line: the LoRA reward model of the rule above
// (chosen answers end with "please") is PPO's reward for the tiny model's
// completions of the same prompts; optimising it raises the mean score. A
// policy whose vocabulary differs from the reward model's is refused.
TEST_F(RewardE2E, ALoraRewardModelIsPposReward) {
  auto r = train({"--fine_tune_type", "lora"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string prompts;
  for (const auto& w : kTrainWords) {
    prompts += json{{"prompt", "Name: " + w}}.dump() + "\n";
  }
  write_file(dir_ / "prompts/train.jsonl", prompts);
  auto ppo = [this](const fs::path& model, const std::string& run_id) {
    return run_command({mlxt_binary(),
                        "train",
                        "--method",
                        "ppo",
                        "--model",
                        model.string(),
                        "--data",
                        (dir_ / "prompts").string(),
                        "--reward_model",
                        (dir_ / "out").string(),
                        "--runs_dir",
                        (dir_ / "runs").string(),
                        "--run_id",
                        run_id,
                        "--adapter_path",
                        (dir_ / ("policy-" + run_id)).string(),
                        "--batch_size",
                        "16",
                        "--iters",
                        "120",
                        "--steps_per_report",
                        "8",
                        "--max_completion_length",
                        "4",
                        "--max_seq_length",
                        "64",
                        "--learning_rate",
                        "2e-4",
                        "--lam",
                        "1.0",
                        "--num_layers",
                        "-1"});
  };
  auto rl = ppo(dir_ / "model", "ppo");
  ASSERT_EQ(rl.exit_code, 0) << rl.output;
  auto records = read_metrics(dir_ / "runs/ppo/metrics.jsonl");
  EXPECT_EQ(metric_events(records, "start")[0]["reward_model"],
            (dir_ / "out").string());
  auto trains = metric_events(records, "train");
  ASSERT_EQ(trains.size(), 15u);
  double first = 0.0, last = 0.0;
  for (size_t i = 0; i < 3; ++i) {
    first += trains[i]["reward"].get<double>() / 3.0;
    last += trains[trains.size() - 1 - i]["reward"].get<double>() / 3.0;
  }
  std::cout << "[ NOTE ] mean reward-model score, first 24 steps " << first
            << ", last 24 " << last << "\n";
  // Measured: -3.9 over the first 24 steps, +0.7 over the last 24.
  EXPECT_GT(last, first + 2.0);

  // Another tokenizer: the reward model would read the ids as other text.
  write_file(dir_ / "other.txt", "completely different words for a corpus\n");
  ASSERT_EQ(init_tiny_model(dir_ / "other", dir_ / "other.txt"), "");
  auto other = ppo(dir_ / "other", "other");
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.output.find("reward_model"), std::string::npos)
      << other.output;
  EXPECT_NE(other.output.find("vocabulary"), std::string::npos) << other.output;
}

TEST_F(RewardE2E, FullSavesAClassifierFolderThatScoresAndTrainsOn) {
  auto r = train({"--fine_tune_type", "full", "--iters", "20"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json config = json::parse(read_file(dir_ / "out/config.json"));
  EXPECT_EQ(config["architectures"],
            json::array({"LlamaForSequenceClassification"}));
  EXPECT_EQ(config["num_labels"], 1);
  EXPECT_TRUE(config.contains("pad_token_id"));
  const std::vector<json> scores = score({"--model", (dir_ / "out").string()});
  expect_scores_match_last_eval(scores);

  // Messages rows score as the chosen side of the same pairs.
  std::string chats;
  for (const auto& w : kValidWords) {
    chats += json{{"messages",
                   {{{"role", "user"}, {"content", "Name: " + w}},
                    {{"role", "assistant"}, {"content", w + " please"}}}}}
                 .dump() +
             "\n";
  }
  write_file(dir_ / "chats.jsonl", chats);
  const std::vector<json> singles =
      score({"--model", (dir_ / "out").string()}, "chats.jsonl");
  ASSERT_EQ(singles.size(), scores.size());
  for (size_t i = 0; i < singles.size(); ++i) {
    EXPECT_NEAR(singles[i]["score"].get<double>(),
                scores[i]["chosen"].get<double>(),
                1e-4);
  }

  // The folder is a model to train on: its head is kept.
  std::vector<std::string> args = {
      mlxt_binary(),      "train",
      "--method",         "reward",
      "--model",          (dir_ / "out").string(),
      "--data",           (dir_ / "data").string(),
      "--runs_dir",       (dir_ / "runs").string(),
      "--run_id",         "again",
      "--adapter_path",   (dir_ / "again").string(),
      "--iters",          "1",
      "--batch_size",     "4",
      "--max_seq_length", "64"};
  auto again = run_command(args);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  auto records = read_metrics(dir_ / "runs/again/metrics.jsonl");
  auto starts = metric_events(records, "start");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0]["score_head"], "from the model");
  // Trained, so held-out pairs start right.
  EXPECT_GE(metric_events(records, "eval")
                .front()["val_reward_accuracy"]
                .get<double>(),
            0.9);
}

TEST_F(RewardE2E, KilledAndResumedMatchesTheUninterruptedRun) {
  const std::vector<std::string> args = {
      "--fine_tune_type", "lora", "--save_every", "5", "--iters", "12"};
  auto whole = train(args, "whole");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  auto killed = train(args, "killed", "train.step:7");
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.output;
  auto resumed = run_command(
      {mlxt_binary(), "train", "--resume", (dir_ / "runs/killed").string()});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  auto resumes =
      metric_events(read_metrics(dir_ / "runs/killed/metrics.jsonl"), "resume");
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

TEST_F(RewardE2E, TheMarginColumnEntersTheLoss) {
  // With a margin of 20 every pair starts far from satisfied:
  // -log sigmoid(r_c - r_r - 20) is about 20.
  std::string train_rows;
  for (const auto& w : kTrainWords) {
    json row = json::parse(pair_row(w));
    row["margin"] = 20;
    train_rows += row.dump() + "\n";
  }
  write_file(dir_ / "data/train.jsonl", train_rows);
  auto r = train({"--iters", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto trains =
      metric_events(read_metrics(dir_ / "runs/run/metrics.jsonl"), "train");
  ASSERT_EQ(trains.size(), 1u);
  EXPECT_GT(trains[0]["loss"].get<double>(), 15.0) << trains[0].dump();
}

TEST_F(RewardE2E, ANonNumberMarginIsRefusedNamingTheKey) {
  json row = json::parse(pair_row("apple"));
  row["margin"] = "big";
  write_file(dir_ / "data/train.jsonl", row.dump() + "\n");
  auto r = train({});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("margin"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("train.jsonl"), std::string::npos) << r.output;
}

TEST_F(RewardE2E, ChatRowsAreRefusedNamingTheFile) {
  write_file(dir_ / "data/train.jsonl",
             json{{"messages",
                   {{{"role", "user"}, {"content", "hi"}},
                    {{"role", "assistant"}, {"content", "yo"}}}}}
                     .dump() +
                 "\n");
  auto r = train({});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("preference rows"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("train.jsonl"), std::string::npos) << r.output;
}

TEST_F(RewardE2E, PackingIsRefusedNamingTheKey) {
  auto r = train({"--pack_sequences", "true"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("pack_sequences"), std::string::npos) << r.output;
}

TEST_F(RewardE2E, ScoringWithoutAHeadIsRefused) {
  auto r = run_command({mlxt_binary(),
                        "score",
                        "--model",
                        (dir_ / "model").string(),
                        "--data",
                        (dir_ / "data/valid.jsonl").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("no score head"), std::string::npos) << r.output;
}

} // namespace
