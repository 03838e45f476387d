// DPO on a real model: SmolLM2-135M-Instruct (its GGUF dequantized to a
// float32 folder, which trains several times faster on the CPU than LoRA
// over the quantized file) learns a rule from preference pairs alone. Every
// chosen answer starts with "Answer:", its rejected twin states the same fact
// in prose, as the base model does. Held-out pairs' reward_accuracy rises to at
// least 0.9, and greedy answers to held-out questions follow the rule far more
// often than before.
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/test_support.h"
#include "support/training_fixtures.h"

namespace {

using namespace mlxt::testing;
namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::pair<std::string, std::string>> kCapitals = {
    {"France", "Paris"},
    {"Japan", "Tokyo"},
    {"Germany", "Berlin"},
    {"England", "London"},
    {"Russia", "Moscow"},
    {"China", "Beijing"},
    {"Egypt", "Cairo"},
    {"Greece", "Athens"},
    {"Canada", "Ottawa"},
    {"Ireland", "Dublin"},
    {"Austria", "Vienna"},
    {"Poland", "Warsaw"},
    {"Norway", "Oslo"},
    {"Sweden", "Stockholm"},
    {"Peru", "Lima"},
    {"Cuba", "Havana"},
    {"Kenya", "Nairobi"},
    {"Thailand", "Bangkok"},
    {"South Korea", "Seoul"},
    {"Italy", "Rome"},
    {"Spain", "Madrid"},
    {"Portugal", "Lisbon"},
    {"Hungary", "Budapest"},
    {"Finland", "Helsinki"},
    {"Denmark", "Copenhagen"},
    {"Argentina", "Buenos Aires"},
    {"Chile", "Santiago"},
    {"Turkey", "Ankara"},
    {"India", "New Delhi"},
    {"Mexico", "Mexico City"},
    {"Belgium", "Brussels"},
    {"Iran", "Tehran"},
    // Held out: validation pairs and the greedy check.
    {"Vietnam", "Hanoi"},
    {"Indonesia", "Jakarta"},
    {"Philippines", "Manila"},
    {"Colombia", "Bogota"},
    {"Iraq", "Baghdad"},
    {"Syria", "Damascus"},
    {"Ukraine", "Kyiv"},
    {"Czech Republic", "Prague"},
};
constexpr size_t kTrain = 32;

std::string question(const std::string& country) {
  return "What is the capital of " + country + "?";
}

std::string pair_row(const std::string& country, const std::string& city) {
  return json{{"prompt", question(country)},
              {"chosen", "Answer: " + city + "."},
              {"rejected", "The capital of " + country + " is " + city + "."}}
             .dump() +
         "\n";
}

// Held-out questions whose greedy answer starts with "Answer:".
int answers_following_the_rule(const fs::path& model,
                               const fs::path& prompts,
                               const std::string& adapter) {
  std::vector<std::string> args = {mlxt_binary(),
                                   "generate",
                                   "--model",
                                   model.string(),
                                   "--prompts",
                                   prompts.string(),
                                   "--max_tokens",
                                   "6"};
  if (!adapter.empty()) {
    args.insert(args.end(), {"--adapter", adapter});
  }
  CommandResult r = run_command(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  int following = 0;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    const json row = json::parse(line);
    const std::string completion = row["completion"];
    following += completion.rfind("Answer:", 0) == 0;
    std::cout << (adapter.empty() ? "before" : "after") << ": "
              << row["prompt"].get<std::string>() << " -> " << completion
              << "\n";
  }
  return following;
}

TEST(DpoSmolLM2E2E, HeldOutRewardAccuracyAndGreedyAnswersFollowTheRule) {
  const fs::path gguf = smollm2_gguf();
  if (gguf.empty()) {
    GTEST_SKIP() << "SmolLM2 GGUF not in the model cache (scripts/setup "
                    "fetches it)";
  }
  TempDir dir;
  const fs::path model = dir.path() / "smollm2";
  CommandResult converted = run_command({mlxt_binary(),
                                         "convert",
                                         "--from-gguf",
                                         gguf.string(),
                                         "--out",
                                         model.string(),
                                         "--dequantize",
                                         "--dtype",
                                         "f32"});
  ASSERT_EQ(converted.exit_code, 0) << converted.output;
  std::string train, valid, prompts;
  for (size_t i = 0; i < kCapitals.size(); ++i) {
    const auto& [country, city] = kCapitals[i];
    if (i < kTrain) {
      train += pair_row(country, city);
    } else {
      valid += pair_row(country, city);
      prompts += json{{"prompt", question(country)}}.dump() + "\n";
    }
  }
  write_file(dir.path() / "data/train.jsonl", train);
  write_file(dir.path() / "data/valid.jsonl", valid);
  write_file(dir.path() / "prompts.jsonl", prompts);
  const int before =
      answers_following_the_rule(model, dir.path() / "prompts.jsonl", "");

  CommandResult run = run_command({mlxt_binary(),
                                   "train",
                                   "--method",
                                   "dpo",
                                   "--model",
                                   model.string(),
                                   "--data",
                                   (dir.path() / "data").string(),
                                   "--runs_dir",
                                   (dir.path() / "runs").string(),
                                   "--run_id",
                                   "dpo",
                                   "--adapter_path",
                                   (dir.path() / "adapters").string(),
                                   "--num_layers",
                                   "8",
                                   "--batch_size",
                                   "4",
                                   "--iters",
                                   "6",
                                   "--learning_rate",
                                   "5e-5",
                                   "--beta",
                                   "0.1",
                                   "--steps_per_report",
                                   "4",
                                   "--steps_per_eval",
                                   "6",
                                   "--val_batches",
                                   "-1",
                                   "--save_every",
                                   "0",
                                   "--max_seq_length",
                                   "64"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::vector<json> evals = metric_events(
      read_metrics(dir.path() / "runs/dpo/metrics.jsonl"), "eval");
  ASSERT_GE(evals.size(), 2u) << run.output;
  // At the start the policy is the reference: every reward is 0, so no
  // chosen reward beats its rejected one (TRL counts ties the same way).
  EXPECT_NEAR(evals.front()["val_reward_accuracy"].get<double>(), 0.0, 1e-6);
  EXPECT_GE(evals.back()["val_reward_accuracy"].get<double>(), 0.9)
      << evals.back().dump();
  EXPECT_LT(evals.back()["val_loss"].get<double>(),
            evals.front()["val_loss"].get<double>());

  const int after = answers_following_the_rule(
      model, dir.path() / "prompts.jsonl", (dir.path() / "adapters").string());
  std::cout << "held-out greedy answers starting with \"Answer:\": " << before
            << "/8 before, " << after << "/8 after\n";
  EXPECT_LE(before, 1);
  EXPECT_GE(after, 6);
}

} // namespace
