// Online RL on a real model: SmolLM2-135M-Instruct (its GGUF dequantized to
// a float32 folder) is asked for capitals "Begin your reply with
// 'Answer:'", which it seldom does, and GRPO with the regex reward (the
// completion starts with "Answer:") teaches it to: the sampled reward and
// the greedy answers to held-out questions both rise. 16 steps of 8
// completions; about 2 CPU-minutes.
#include <nlohmann/json.hpp>

#include "support/test_support.h"
#include "support/training_fixtures.h"

namespace {

using namespace mlxt::testing;
namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kTrainCountries = {
    "France",   "Germany", "Japan",    "Egypt",   "Canada",  "Kenya",
    "Peru",     "Norway",  "Greece",   "Poland",  "Austria", "Sweden",
    "Thailand", "Cuba",    "Ireland",  "Russia",  "China",   "Brazil",
    "Italy",    "Spain",   "Portugal", "Hungary", "Finland", "Denmark"};
// Held out: the greedy check.
const std::vector<std::string> kValidCountries = {"Vietnam",
                                                  "Indonesia",
                                                  "Philippines",
                                                  "Colombia",
                                                  "Iraq",
                                                  "Syria",
                                                  "Ukraine",
                                                  "Chile"};

std::string prompt_rows(const std::vector<std::string>& countries) {
  std::string rows;
  for (const auto& c : countries) {
    rows += json{{"prompt",
                  "What is the capital of " + c +
                      "? Begin your reply with 'Answer:'."},
                 {"answer", "Answer:[\\s\\S]*"}}
                .dump() +
            "\n";
  }
  return rows;
}

TEST(GrpoSmolLM2E2E, RewardAndHeldOutGreedyAnswersFollowTheFormat) {
  const fs::path gguf = smollm2_gguf();
  if (gguf.empty()) {
    GTEST_SKIP() << "SmolLM2 GGUF not in the model cache (scripts/setup "
                    "fetches it)";
  }
  TempDir dir;
  CommandResult converted = run_command({mlxt_binary(),
                                         "convert",
                                         "--from-gguf",
                                         gguf.string(),
                                         "--out",
                                         (dir / "model").string(),
                                         "--dequantize",
                                         "--dtype",
                                         "f32"});
  ASSERT_EQ(converted.exit_code, 0) << converted.output;
  write_file(dir / "data/train.jsonl", prompt_rows(kTrainCountries));
  write_file(dir / "data/valid.jsonl", prompt_rows(kValidCountries));
  auto r = run_command(train_command("grpo",
                                     dir.path(),
                                     "run",
                                     {"--reward",
                                      "regex",
                                      "--num_generations",
                                      "4",
                                      "--batch_size",
                                      "8",
                                      "--max_completion_length",
                                      "10",
                                      "--max_seq_length",
                                      "128",
                                      "--iters",
                                      "16",
                                      "--steps_per_report",
                                      "2",
                                      "--steps_per_eval",
                                      "1000",
                                      "--val_batches",
                                      "-1",
                                      "--save_every",
                                      "0",
                                      "--learning_rate",
                                      "5e-5",
                                      "--num_layers",
                                      "8"}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto records = read_metrics(dir / "runs/run/metrics.jsonl");
  auto trains = metric_events(records, "train");
  ASSERT_EQ(trains.size(), 8u);
  const double first = mean_of(trains, 0, 2, "reward");
  const double last = mean_of(trains, 6, 8, "reward");
  auto evals = metric_events(records, "eval");
  ASSERT_EQ(evals.size(), 2u);
  const double before = evals.front()["val_reward"].get<double>();
  const double after = evals.back()["val_reward"].get<double>();
  std::cout << "[ NOTE ] sampled reward " << first << " -> " << last
            << "; held-out greedy answers starting with Answer: " << before
            << " -> " << after << "\n";
  // Measured on this host: sampled 0.03 -> 1.0 (at step 12 already 1.0),
  // greedy 0/8 -> 8/8.
  EXPECT_GT(last, first + 0.5);
  EXPECT_LE(before, 0.25);
  EXPECT_GE(after, 0.75);
  for (const auto& t : trains) {
    EXPECT_LT(t["kl"].get<double>(), 5.0) << t.dump(); // nats per token
  }
}

} // namespace
