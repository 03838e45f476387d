// Logits of our forward pass against mlx-lm's Python model classes on the
// same weights, for every supported architecture (fp32, CPU).
#include <nlohmann/json.hpp>

#include "mlxt/core/safetensors.h"
#include "mlxt/models/init.h"
#include "mlxt/models/model.h"
#include "mlxt/models/transformer.h"
#include "mlxt/train/artifacts.h"
#include "support/test_support.h"

namespace {

using namespace mlxt;
namespace fs = std::filesystem;

// A preset model whose every weight (norms and biases too) is random, so no
// code path is hidden behind ones or zeros.
models::Model random_model(const std::string& arch, nlohmann::json overrides) {
  models::InitOptions options{
      .arch = arch, .preset = "tiny", .vocab_size = 300, .seed = 7};
  nlohmann::json config = models::preset_config(options);
  if (overrides.is_object()) {
    config.update(overrides);
  }
  models::Model model{models::parse_model_args(config, "test"), {}};
  mx::array key = mx::random::key(11);
  for (const auto& [name, shape] : models::expected_weight_shapes(model.args)) {
    auto [next, sub] = mx::random::split(key);
    key = next;
    mx::array noise = mx::random::normal(shape, mx::float32, 0.0f, 0.1f, sub);
    model.weights.insert_or_assign(name,
                                   name.ends_with("norm.weight")
                                       ? mx::add(noise, mx::array(1.0f))
                                       : noise);
  }
  return model;
}

// Compares our logits for `model` (+ `adapters` with `lora` settings) with
// mlx-lm's for the same folder (+ adapter folder).
void expect_parity(const models::Model& model,
                   const Params& adapters = {},
                   const train::LoraSpec& lora = {}) {
  mlxt::testing::TempDir dir;
  const fs::path model_dir = dir / "model";
  models::save_model(model_dir, model);
  std::vector<std::string> extra;
  if (!adapters.empty()) {
    train::save_adapters(
        dir / "adapters", adapters, lora, nlohmann::json::object());
    extra.push_back((dir / "adapters").string());
  }

  std::vector<std::vector<int>> rows = {
      {1, 5, 9, 200, 3, 17, 299, 0, 42, 8, 8, 100},
      {7, 7, 7, 1, 2, 3, 4, 5, 6, 250, 11, 12}};
  mlxt::testing::write_file(dir / "tokens.json", nlohmann::json(rows).dump());
  std::vector<std::string> command = {
      mlxt::testing::reference_python(),
      (mlxt::testing::source_dir() / "tests/oracles/mlx_lm_logits.py").string(),
      model_dir.string(),
      (dir / "tokens.json").string(),
      (dir / "ref.safetensors").string()};
  command.insert(command.end(), extra.begin(), extra.end());
  auto result = mlxt::testing::run_command(command);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  mx::array expected =
      param(load_safetensors_file(dir / "ref.safetensors"), "logits");

  models::Model loaded = models::load_model(model_dir);
  for (const auto& [name, value] : adapters) {
    loaded.weights.insert_or_assign(name, value);
  }
  std::vector<int> flat;
  for (const auto& row : rows) {
    flat.insert(flat.end(), row.begin(), row.end());
  }
  mx::array tokens(
      flat.begin(), {2, static_cast<int>(rows[0].size())}, mx::int32);
  nn::ForwardContext ctx;
  ctx.lora_scale = lora.scale;
  mx::array logits = models::forward(loaded.args, loaded.weights, tokens, ctx);
  ASSERT_EQ(logits.shape(), expected.shape());
  float max_diff =
      mx::max(mx::abs(mx::subtract(logits, expected))).item<float>();
  EXPECT_LT(max_diff, 1e-4f) << model.args.model_type;
}

class ModelParity : public ::testing::Test {
protected:
  void SetUp() override {
    if (!mlxt::testing::have_reference_python()) {
      GTEST_SKIP() << "reference venv missing: run scripts/setup --test";
    }
  }
};

TEST_F(ModelParity, Llama) {
  expect_parity(random_model("llama", {}));
}

TEST_F(ModelParity, LlamaWithLlama3RopeScalingAndUntiedHead) {
  expect_parity(random_model("llama",
                             {{"tie_word_embeddings", false},
                              {"rope_scaling",
                               {{"rope_type", "llama3"},
                                {"factor", 8.0},
                                {"low_freq_factor", 1.0},
                                {"high_freq_factor", 4.0},
                                {"original_max_position_embeddings", 64}}}}));
}

TEST_F(ModelParity, LlamaWithAttentionBias) {
  expect_parity(
      random_model("llama", {{"attention_bias", true}, {"mlp_bias", true}}));
}

TEST_F(ModelParity, Mistral) {
  expect_parity(random_model("mistral", {}));
}

TEST_F(ModelParity, Qwen2) {
  expect_parity(random_model("qwen2", {}));
}

TEST_F(ModelParity, Qwen3) {
  expect_parity(random_model("qwen3", {}));
}

// mlx-lm's load_adapters reads our adapters.safetensors + adapter_config.json
// and computes the same logits.
TEST_F(ModelParity, LoraAdaptersLoadInMlxLm) {
  models::Model model = random_model("qwen2", {});
  train::LoraSpec lora{
      .rank = 4, .scale = 2.5f, .dropout = 0.0f, .num_layers = 1, .keys = {}};
  Params adapters =
      train::init_lora_adapters(model.args, model.weights, lora, 5);
  mx::array key = mx::random::key(9);
  for (auto& [name, value] : adapters) {
    auto [next, sub] = mx::random::split(key);
    key = next;
    value = mx::random::normal(value.shape(), mx::float32, 0.0f, 0.2f, sub);
  }
  expect_parity(model, adapters, lora);
}

} // namespace
