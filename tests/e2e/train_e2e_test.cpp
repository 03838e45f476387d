// End-to-end: the real `mlxt` binary initialises a model, fine-tunes it (LoRA
// and full), and the saved results reload to the same evaluation loss.
#include <nlohmann/json.hpp>

#include "support/test_support.h"
#include "support/training_fixtures.h"

namespace {

using namespace mlxt::testing;
namespace fs = std::filesystem;
using nlohmann::json;

class TrainE2E : public ::testing::Test {
protected:
  void SetUp() override {
    write_echo_chat_dataset(dir_ / "data");
    ASSERT_EQ(init_tiny_model(dir_ / "model", dir_ / "data/train.jsonl"), "");
  }

  CommandResult train(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {mlxt_binary(),
                                     "train",
                                     "--model",
                                     (dir_ / "model").string(),
                                     "--data",
                                     (dir_ / "data").string(),
                                     "--runs_dir",
                                     (dir_ / "runs").string(),
                                     "--run_id",
                                     "run",
                                     "--batch_size",
                                     "4",
                                     "--steps_per_report",
                                     "10",
                                     "--steps_per_eval",
                                     "1000",
                                     "--val_batches",
                                     "-1",
                                     "--save_every",
                                     "0",
                                     "--max_seq_length",
                                     "64",
                                     "--mask_prompt",
                                     "true"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_command(args);
  }

  TempDir dir_;
};

TEST_F(TrainE2E, LoraLossFallsAndSavedAdaptersReproduceTheEvalLoss) {
  auto r = train({"--fine_tune_type",
                  "lora",
                  "--iters",
                  "60",
                  "--learning_rate",
                  "5e-3",
                  "--num_layers",
                  "-1",
                  "--lora_parameters.rank",
                  "8",
                  "--adapter_path",
                  (dir_ / "adapters").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto records = read_metrics(dir_ / "runs/run/metrics.jsonl");
  auto trains = metric_events(records, "train");
  ASSERT_GE(trains.size(), 2u);
  double first = trains.front()["loss"];
  double last = trains.back()["loss"];
  EXPECT_LT(last, 0.9 * first) << "train loss " << first << " -> " << last;
  auto evals = metric_events(records, "eval");
  ASSERT_EQ(evals.size(), 2u);
  // Measured: 7.38 -> 4.17 (seed 0).
  EXPECT_LT(evals.back()["val_loss"].get<double>(),
            0.7 * evals.front()["val_loss"].get<double>());
  ASSERT_TRUE(fs::exists(dir_ / "adapters/adapters.safetensors"));
  ASSERT_TRUE(fs::exists(dir_ / "adapters/adapter_config.json"));

  auto e = run_command({mlxt_binary(),
                        "eval",
                        "--model",
                        (dir_ / "model").string(),
                        "--adapter",
                        (dir_ / "adapters").string(),
                        "--data",
                        (dir_ / "data").string(),
                        "--batch-size",
                        "4",
                        "--max-seq-length",
                        "64",
                        "--mask-prompt"});
  ASSERT_EQ(e.exit_code, 0) << e.output;
  json reloaded = json::parse(e.output);
  EXPECT_EQ(reloaded["loss"].get<double>(),
            evals.back()["val_loss"].get<double>());
}

TEST_F(TrainE2E, FullFineTuneSavesAModelFolderThatReloads) {
  auto r = train({"--fine_tune_type",
                  "full",
                  "--iters",
                  "30",
                  "--learning_rate",
                  "2e-3",
                  "--adapter_path",
                  (dir_ / "full").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto records = read_metrics(dir_ / "runs/run/metrics.jsonl");
  auto evals = metric_events(records, "eval");
  ASSERT_EQ(evals.size(), 2u);
  EXPECT_LT(evals.back()["val_loss"].get<double>(),
            evals.front()["val_loss"].get<double>());
  for (const char* file : {"config.json",
                           "model.safetensors",
                           "tokenizer.json",
                           "tokenizer_config.json"}) {
    EXPECT_TRUE(fs::exists(dir_ / "full" / file)) << file;
  }
  auto e = run_command({mlxt_binary(),
                        "eval",
                        "--model",
                        (dir_ / "full").string(),
                        "--data",
                        (dir_ / "data").string(),
                        "--batch-size",
                        "4",
                        "--max-seq-length",
                        "64",
                        "--mask-prompt"});
  ASSERT_EQ(e.exit_code, 0) << e.output;
  EXPECT_EQ(json::parse(e.output)["loss"].get<double>(),
            evals.back()["val_loss"].get<double>());

  auto g = run_command({mlxt_binary(),
                        "generate",
                        "--model",
                        (dir_ / "full").string(),
                        "--prompt",
                        "Echo: apple",
                        "--max-tokens",
                        "8"});
  EXPECT_EQ(g.exit_code, 0) << g.output;
}

TEST_F(TrainE2E, BadConfigNamesTheKeyAndExitsNonZero) {
  auto r = train({"--iters", "0", "--lora_parameters.rnak", "4"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("iters"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rnak"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rank"), std::string::npos) << r.output;
}

TEST_F(TrainE2E, PickleWeightsAreRefused) {
  fs::remove(dir_ / "model/model.safetensors");
  write_file(dir_ / "model/pytorch_model.bin", "not really a pickle");
  auto r = train({"--iters", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("pickle"), std::string::npos) << r.output;
}

} // namespace
