// End-to-end: resume_adapter_file starts training from saved LoRA adapters
// (a LoRA run continues them, a full run trains the base with them merged),
// and a missing or mismatched file stops the run before its first step.
// Issue 19: the trainer never read the key, so pipeline stage 2 started from
// the base.
#include <nlohmann/json.hpp>

#include "support/test_support.h"
#include "support/training_fixtures.h"

namespace {

using namespace mlxt::testing;
namespace fs = std::filesystem;
using nlohmann::json;

class ResumeAdapterE2E : public ::testing::Test {
protected:
  // One LoRA run whose adapters every test starts from.
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    write_echo_chat_dataset(*dir_ / "data");
    ASSERT_EQ(init_tiny_model(*dir_ / "model", *dir_ / "data/train.jsonl"), "");
    auto r = train("first", {"--fine_tune_type", "lora", "--iters", "20"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static CommandResult train(const std::string& run_id,
                             const std::vector<std::string>& extra) {
    std::vector<std::string> args = {mlxt_binary(),
                                     "train",
                                     "--model",
                                     (*dir_ / "model").string(),
                                     "--data",
                                     (*dir_ / "data").string(),
                                     "--runs_dir",
                                     (*dir_ / "runs").string(),
                                     "--run_id",
                                     run_id,
                                     "--adapter_path",
                                     (*dir_ / run_id).string(),
                                     "--batch_size",
                                     "4",
                                     "--steps_per_report",
                                     "5",
                                     "--steps_per_eval",
                                     "1000",
                                     "--val_batches",
                                     "-1",
                                     "--save_every",
                                     "0",
                                     "--max_seq_length",
                                     "64",
                                     "--learning_rate",
                                     "5e-3",
                                     "--num_layers",
                                     "-1",
                                     "--lora_parameters.rank",
                                     "4"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_command(args);
  }

  static std::vector<double> val_losses(const std::string& run_id) {
    std::vector<double> out;
    for (const auto& e : metric_events(
             read_metrics(*dir_ / "runs" / run_id / "metrics.jsonl"), "eval")) {
      out.push_back(e["val_loss"]);
    }
    return out;
  }

  static std::string adapters() {
    return (*dir_ / "first/adapters.safetensors").string();
  }

  static TempDir* dir_;
};

TempDir* ResumeAdapterE2E::dir_ = nullptr;

TEST_F(ResumeAdapterE2E, LoraRunStartsFromTheNamedAdapters) {
  auto r = train("lora",
                 {"--fine_tune_type",
                  "lora",
                  "--iters",
                  "5",
                  "--resume_adapter_file",
                  adapters()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<double> first = val_losses("first");
  const std::vector<double> second = val_losses("lora");
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(second.size(), 2u);
  // Its step-0 loss is where the first run ended, not where it began.
  EXPECT_NEAR(second.front(), first.back(), 1e-6);
  EXPECT_LT(first.back(), 0.9 * first.front());
}

TEST_F(ResumeAdapterE2E, FullRunTrainsTheBaseWithTheAdaptersMerged) {
  auto r = train("full",
                 {"--fine_tune_type",
                  "full",
                  "--iters",
                  "2",
                  "--learning_rate",
                  "1e-4",
                  "--resume_adapter_file",
                  adapters()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<double> first = val_losses("first");
  const std::vector<double> merged = val_losses("full");
  ASSERT_EQ(merged.size(), 2u);
  // W + scale * (A B)^T in fp32 vs the two matmuls: rounding only.
  EXPECT_NEAR(merged.front(), first.back(), 1e-4 * first.back());
}

TEST_F(ResumeAdapterE2E, MissingOrMismatchedFileStopsTheRunBeforeTraining) {
  auto missing = train("missing",
                       {"--iters",
                        "5",
                        "--resume_adapter_file",
                        (*dir_ / "nope/adapters.safetensors").string()});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("resume_adapter_file: no such adapter file"),
            std::string::npos)
      << missing.output;
  EXPECT_FALSE(fs::exists(*dir_ / "missing/adapters.safetensors"));

  auto other_rank = train("rank8",
                          {"--iters",
                           "5",
                           "--lora_parameters.rank",
                           "8",
                           "--resume_adapter_file",
                           adapters()});
  EXPECT_NE(other_rank.exit_code, 0);
  EXPECT_NE(other_rank.output.find("wrong shape for model.layers.0."),
            std::string::npos)
      << other_rank.output;
}

} // namespace
