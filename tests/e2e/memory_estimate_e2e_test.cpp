// The peak-memory estimate (train/memory_estimate.h) against the peak that
// a real `mlxt train` run reports (MLX's allocator peak, "peak_memory_gb"
// in metrics.jsonl): a small Llama, full fine-tuning and LoRA, batches of
// 256-token rows, on this machine's device. Tolerance: +-35% (the
// calibration runs in the header were within 4%).
#include <cmath>
#include <iostream>

#include <nlohmann/json.hpp>

#include "mlxt/train/memory_estimate.h"
#include "support/test_support.h"
#include "support/training_fixtures.h"

namespace {

using namespace mlxt::testing;
using nlohmann::json;
namespace fs = std::filesystem;

class MemoryEstimateE2E : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    // Rows long enough to be cut at 256 tokens: activations dominate.
    const std::vector<std::string> words = {
        "apple", "river", "stone", "cloud", "tiger", "maple", "ocean", "piano"};
    std::string rows;
    for (int r = 0; r < 16; ++r) {
      std::string text;
      for (int i = 0; i < 200; ++i) {
        text += words[(r + i * 3) % words.size()] + " ";
      }
      rows += json{{"messages",
                    {{{"role", "user"}, {"content", "Repeat: " + text}},
                     {{"role", "assistant"}, {"content", text}}}}}
                  .dump() +
              "\n";
    }
    write_file(dir_->path() / "data/train.jsonl", rows);
    write_file(dir_->path() / "data/valid.jsonl", rows);
    auto r = run_command({mlxt_binary(),
                          "init-model",
                          "--arch",
                          "llama",
                          "--preset",
                          "small",
                          "--out",
                          (dir_->path() / "model").string(),
                          "--vocab-size",
                          "300",
                          "--tokenizer-corpus",
                          (dir_->path() / "data/train.jsonl").string()});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  static void TearDownTestSuite() { delete dir_; }

  // The peak a one-step run reports, in bytes (about 5% below a 3-step
  // run's, which the calibration used: one step keeps the test short).
  static double measured_peak(const std::string& method, int batch) {
    const std::string run = method + std::to_string(batch);
    auto r = run_command({mlxt_binary(),
                          "train",
                          "--model",
                          (dir_->path() / "model").string(),
                          "--data",
                          (dir_->path() / "data").string(),
                          "--fine-tune-type",
                          method,
                          "--num-layers",
                          "4", // every layer of the small preset
                          "--batch-size",
                          std::to_string(batch),
                          "--iters",
                          "1",
                          "--steps-per-report",
                          "1",
                          "--steps-per-eval",
                          "1000",
                          "--val-batches",
                          "1",
                          "--save-every",
                          "0",
                          "--max-seq-length",
                          "257",
                          "--runs-dir",
                          (dir_->path() / "runs").string(),
                          "--run-id",
                          run,
                          "--adapter-path",
                          (dir_->path() / run).string()});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    auto trains = metric_events(
        read_metrics(dir_->path() / "runs" / run / "metrics.jsonl"), "train");
    EXPECT_EQ(trains.size(), 1u) << r.output;
    return trains.empty() ? 0.0
                          : trains[0]["peak_memory_gb"].get<double>() * 1e9;
  }

  static TempDir* dir_;
};

TempDir* MemoryEstimateE2E::dir_ = nullptr;

TEST_F(MemoryEstimateE2E, EstimateIsWithinThirtyFivePercentOfTheMeasuredPeak) {
  const mlxt::train::ModelShape shape =
      mlxt::train::model_shape(dir_->path() / "model");
  using mlxt::train::PlanMethod;
  for (const auto& [method, batch] : std::vector<std::pair<PlanMethod, int>>{
           {PlanMethod::full, 4}, {PlanMethod::lora, 4}}) {
    const std::string name = mlxt::train::plan_method_name(method);
    const double measured = measured_peak(name, batch);
    ASSERT_GT(measured, 0);
    const mlxt::train::MemoryEstimate e =
        mlxt::train::estimate_memory(shape,
                                     {.method = method,
                                      .lora_rank = 8,
                                      .batch_size = batch,
                                      .seq_len = 256,
                                      .compute_dtype = "float32"});
    const double ratio = e.total() / measured;
    EXPECT_GT(ratio, 0.65) << name << ": estimate " << e.to_json().dump()
                           << " measured " << measured;
    EXPECT_LT(ratio, 1.35) << name << ": estimate " << e.to_json().dump()
                           << " measured " << measured;
    std::cout << name << " batch " << batch << ": estimate " << e.total()
              << " B, measured " << measured << " B, ratio " << ratio << "\n";
  }
}

} // namespace
