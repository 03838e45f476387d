// What a person reads from a run, through the real binary: progress fields
// in every report line and metrics.jsonl, evaluation progress, a stopped run
// whose adapters load in `mlxt generate`, and a start line that says what
// will run (the optimizer as configured, logical parameter counts of a
// quantized GGUF base, the slow-choice warning).
#include <nlohmann/json.hpp>

#include "support/test_support.h"
#include "support/training_fixtures.h"

namespace {

using namespace mlxt::testing;
namespace fs = std::filesystem;
using nlohmann::json;

class RunOutputE2E : public ::testing::Test {
protected:
  void SetUp() override { write_echo_chat_dataset(dir_ / "data"); }

  std::vector<std::string>
  train_args(const fs::path& model, const std::string& run_id, int iters) {
    return {mlxt_binary(),      "train",
            "--model",          model.string(),
            "--data",           (dir_ / "data").string(),
            "--runs_dir",       (dir_ / "runs").string(),
            "--run_id",         run_id,
            "--adapter_path",   (dir_ / run_id).string(),
            "--data_cache",     "none",
            "--iters",          std::to_string(iters),
            "--batch_size",     "4",
            "--max_seq_length", "64",
            "--mask_prompt",    "true",
            "--learning_rate",  "5e-3",
            "--save_every",     "0"};
  }

  TempDir dir_;
};

TEST_F(RunOutputE2E, ReportsCarryProgressAndBothThroughputs) {
  ASSERT_EQ(init_tiny_model(dir_ / "model", dir_ / "data/train.jsonl"), "");
  auto args = train_args(dir_ / "model", "run", 6);
  args.insert(args.end(), {"--steps_per_report", "2", "--val_batches", "2"});
  auto r = run_command(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto trains =
      metric_events(read_metrics(dir_ / "runs/run/metrics.jsonl"), "train");
  ASSERT_EQ(trains.size(), 3u);
  for (const json& t : trains) {
    for (const char* key : {"total_steps",
                            "seconds_per_step",
                            "elapsed_seconds",
                            "eta_seconds",
                            "tokens_per_sec",
                            "target_tokens_per_sec",
                            "trained_tokens"}) {
      ASSERT_TRUE(t.contains(key)) << key << " missing in " << t.dump();
    }
    EXPECT_EQ(t["total_steps"], 6);
    EXPECT_GT(t["seconds_per_step"].get<double>(), 0.0);
    // Prompt masking: every input token is counted, only answers trained.
    EXPECT_GT(t["tokens_per_sec"].get<double>(),
              t["target_tokens_per_sec"].get<double>());
  }
  EXPECT_EQ(trains.back()["eta_seconds"], 0.0);
  EXPECT_GT(trains.front()["eta_seconds"].get<double>(), 0.0);
  // The same fields in the readable lines; evaluation announces itself.
  EXPECT_NE(r.output.find("[train] "), std::string::npos);
  EXPECT_NE(r.output.find("eta_seconds"), std::string::npos);
  EXPECT_NE(r.output.find("[eval] 0/2"), std::string::npos) << r.output;
}

TEST_F(RunOutputE2E, AStoppedRunLeavesAdaptersThatGenerateLoads) {
  ASSERT_EQ(init_tiny_model(dir_ / "model", dir_ / "data/train.jsonl"), "");
  // SIGTERM at the end of step 2; the loop stops after step 3.
  auto r = run_command(train_args(dir_ / "model", "stopped", 50),
                       {{"MLXT_FAILPOINTS", "train.step:2:TERM"}});
  ASSERT_EQ(r.exit_code, 75) << r.output;
  ASSERT_TRUE(fs::exists(dir_ / "stopped/adapters.safetensors"));
  ASSERT_TRUE(fs::exists(dir_ / "stopped/adapter_config.json"));
  ASSERT_TRUE(
      fs::exists(dir_ / "runs/stopped/checkpoints/step-00000003/COMMITTED"));
  auto g = run_command({mlxt_binary(),
                        "generate",
                        "--model",
                        (dir_ / "model").string(),
                        "--adapter",
                        (dir_ / "stopped").string(),
                        "--prompt",
                        "Echo: cat",
                        "--max-tokens",
                        "4"});
  EXPECT_EQ(g.exit_code, 0) << g.output;
}

// A QLoRA start over the 4-bit GGUF: the optimizer as configured ("adam",
// not the class that implements it), total_parameters as logical elements
// (134,515,008 for SmolLM2-135M, not the packed words), and the warning that
// QLoRA on the CPU is slow, with the dense alternative.
TEST_F(RunOutputE2E, StartLineOfAGgufBaseSaysWhatWillRun) {
  const fs::path gguf = smollm2_gguf();
  if (gguf.empty()) {
    GTEST_SKIP() << "SmolLM2 GGUF not in the model cache (scripts/setup "
                    "fetches it)";
  }
  auto args = train_args(gguf, "gguf", 1);
  args.insert(args.end(),
              {"--optimizer",
               "adam",
               "--batch_size",
               "1",
               "--val_batches",
               "1",
               "--num_layers",
               "1"});
  auto r = run_command(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto records = read_metrics(dir_ / "runs/gguf/metrics.jsonl");
  auto starts = metric_events(records, "start");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0]["optimizer"], "adam");
  EXPECT_EQ(starts[0]["total_parameters"], 134515008);
  EXPECT_EQ(starts[0]["quantized_base"], true);
  if (starts[0]["device"] == "cpu") {
    auto warnings = metric_events(records, "warning");
    ASSERT_EQ(warnings.size(), 1u) << r.output;
    EXPECT_EQ(warnings[0]["slow_choice"], "qlora_on_cpu");
    EXPECT_NE(warnings[0]["message"].get<std::string>().find("--dequantize"),
              std::string::npos);
  }
}

} // namespace
