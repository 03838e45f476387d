#include "mlxt/models/init.h"
#include "mlxt/models/model.h"
#include "mlxt/models/transformer.h"
#include "support/test_support.h"

namespace {

using namespace mlxt;
using nlohmann::json;

json tiny_config(const std::string& arch = "llama") {
  return models::preset_config(
      {.arch = arch, .preset = "tiny", .vocab_size = 97});
}

TEST(ModelArgs, ReadsPresetConfig) {
  models::ModelArgs args =
      models::parse_model_args(tiny_config("qwen2"), "config.json");
  EXPECT_EQ(args.hidden_size, 64);
  EXPECT_EQ(args.head_dim, 16);
  EXPECT_TRUE(args.qkv_bias);
  EXPECT_FALSE(args.o_proj_bias);
  EXPECT_TRUE(models::parse_model_args(tiny_config("qwen3"), "c").qk_norm);
}

TEST(ModelArgs, MissingKeyIsNamed) {
  json config = tiny_config();
  config.erase("hidden_size");
  EXPECT_MLXT_ERROR(models::parse_model_args(config, "m/config.json"),
                    invalid_model,
                    "m/config.json: hidden_size: missing");
}

TEST(ModelArgs, WrongTypeIsNamed) {
  json config = tiny_config();
  config["num_attention_heads"] = "four";
  EXPECT_MLXT_ERROR(models::parse_model_args(config, "c.json"),
                    invalid_model,
                    "num_attention_heads: expected a positive integer");
}

TEST(ModelArgs, UnsupportedModelType) {
  json config = tiny_config();
  config["model_type"] = "gpt2";
  EXPECT_MLXT_ERROR(models::parse_model_args(config, "c.json"),
                    unsupported,
                    "model_type \"gpt2\" is not supported (supported: llama, "
                    "mistral, qwen2, qwen3)");
}

TEST(ModelArgs, KvHeadsMustDivideHeads) {
  json config = tiny_config();
  config["num_key_value_heads"] = 3;
  EXPECT_MLXT_ERROR(models::parse_model_args(config, "c.json"),
                    invalid_model,
                    "must be a multiple of num_key_value_heads");
}

TEST(ModelArgs, UnknownRopeScaling) {
  json config = tiny_config();
  config["rope_scaling"] = {{"type", "yarn"}, {"factor", 2.0}};
  EXPECT_MLXT_ERROR(models::parse_model_args(config, "c.json"),
                    unsupported,
                    "rope_scaling.type");
}

TEST(CheckWeights, ListsEveryProblemAtOnce) {
  models::Model model =
      models::init_model({.preset = "tiny", .vocab_size = 97});
  Params weights = model.weights;
  weights.erase("model.norm.weight");
  weights.insert_or_assign("model.layers.0.mlp.up_proj.weight",
                           mx::zeros({3, 3}));
  weights.insert_or_assign("model.extra.weight", mx::zeros({2}));
  try {
    models::check_weights(model.args, weights, "folder");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("3 weight problem(s)"), std::string::npos) << m;
    EXPECT_NE(m.find("missing model.norm.weight (64,)"), std::string::npos)
        << m;
    EXPECT_NE(m.find("wrong shape for model.layers.0.mlp.up_proj.weight: "
                     "expected (128, 64), found (3, 3)"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("unexpected model.extra.weight"), std::string::npos) << m;
  }
}

TEST(CheckWeights, DropsTiedHeadAndRotaryBuffers) {
  models::Model model =
      models::init_model({.preset = "tiny", .vocab_size = 97});
  Params weights = model.weights;
  weights.insert_or_assign("lm_head.weight", mx::zeros({97, 64}));
  weights.insert_or_assign("model.layers.0.self_attn.rotary_emb.inv_freq",
                           mx::zeros({8}));
  EXPECT_EQ(models::check_weights(model.args, weights, "f").size(),
            model.weights.size());
}

TEST(Transformer, CachedDecodingMatchesFullForward) {
  for (const std::string arch : {"llama", "qwen3"}) {
    models::Model model = models::init_model(
        {.arch = arch, .preset = "tiny", .vocab_size = 97, .init_std = 0.2f});
    std::vector<int> ids = {3, 14, 15, 92, 65, 35, 89, 79};
    mx::array all(ids.begin(), {1, 8}, mx::int32);
    nn::ForwardContext ctx;
    mx::array full = models::forward(model.args, model.weights, all, ctx);
    models::KVCache cache(model.args.num_hidden_layers);
    // A 5-token prefill, then one token at a time.
    mx::array first = models::forward(
        model.args, model.weights, mx::slice(all, {0, 0}, {1, 5}), ctx, &cache);
    std::vector<mx::array> pieces = {first};
    for (int t = 5; t < 8; ++t) {
      pieces.push_back(models::forward(model.args,
                                       model.weights,
                                       mx::slice(all, {0, t}, {1, t + 1}),
                                       ctx,
                                       &cache));
    }
    mx::array incremental = mx::concatenate(pieces, 1);
    EXPECT_LT(mx::max(mx::abs(mx::subtract(full, incremental))).item<float>(),
              1e-4f)
        << arch;
    EXPECT_EQ(cache.offset(), 8);
  }
}

TEST(Transformer, GradientCheckpointingGivesTheSameGradients) {
  models::Model model = models::init_model(
      {.preset = "tiny", .vocab_size = 97, .init_std = 0.2f});
  std::vector<std::string> names = param_names(model.weights);
  mx::array tokens = mx::array({1, 2, 3, 4, 5, 6}, {1, 6}, mx::int32);
  auto grads_with = [&](bool checkpoint) {
    auto fn = [&](const std::vector<mx::array>& values) {
      nn::ForwardContext ctx;
      ctx.checkpoint_blocks = checkpoint;
      mx::array logits =
          models::forward(model.args, zip_params(names, values), tokens, ctx);
      return std::vector<mx::array>{mx::sum(mx::square(logits))};
    };
    std::vector<int> argnums(names.size());
    std::iota(argnums.begin(), argnums.end(), 0);
    return mx::value_and_grad(fn, argnums)(param_values(model.weights)).second;
  };
  auto plain = grads_with(false);
  auto checkpointed = grads_with(true);
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_TRUE(
        mx::allclose(plain[i], checkpointed[i], 1e-4, 1e-5).item<bool>())
        << names[i];
  }
}

TEST(ModelFolder, SaveLoadRoundTripIsBitExact) {
  mlxt::testing::TempDir dir;
  models::Model model =
      models::init_model({.arch = "qwen2", .preset = "tiny", .vocab_size = 97});
  models::save_model(dir.path(), model);
  models::Model loaded = models::load_model(dir.path());
  ASSERT_EQ(loaded.weights.size(), model.weights.size());
  for (const auto& [name, w] : model.weights) {
    EXPECT_TRUE(mx::array_equal(w, param(loaded.weights, name)).item<bool>())
        << name;
  }
  EXPECT_EQ(loaded.args.config, model.args.config);
}

TEST(ModelFolder, MissingFolderIsNotFound) {
  EXPECT_MLXT_ERROR(models::load_model("/nonexistent/model"),
                    not_found,
                    "/nonexistent/model");
}

} // namespace

namespace {

// Changing the last token must leave every earlier position's logits alone
// (no attention to the future), in fp32 and in bf16 (cuDNN's path on CUDA),
// at a length that takes the fused attention kernels where they exist.
TEST(Transformer, CausalMaskHidesFutureTokens) {
  for (mx::Dtype dtype : {mx::float32, mx::bfloat16}) {
    models::Model model = models::init_model(
        {.preset = "tiny", .vocab_size = 97, .init_std = 0.2f});
    const int T = 256;
    mx::array a =
        mx::random::randint(0, 97, {1, T}, mx::int32, mx::random::key(3));
    mx::array b = mx::concatenate(
        {mx::slice(a, {0, 0}, {1, T - 1}), mx::array({5}, {1, 1}, mx::int32)},
        1);
    nn::ForwardContext ctx;
    ctx.compute_dtype = dtype;
    mx::array la = models::forward(model.args, model.weights, a, ctx);
    mx::array lb = models::forward(model.args, model.weights, b, ctx);
    mx::array diff = mx::max(mx::abs(mx::subtract(
        mx::astype(mx::slice(la, {0, 0, 0}, {1, T - 1, 97}), mx::float32),
        mx::astype(mx::slice(lb, {0, 0, 0}, {1, T - 1, 97}), mx::float32))));
    EXPECT_EQ(diff.item<float>(), 0.0f)
        << "dtype " << (dtype == mx::float32 ? "float32" : "bfloat16");
  }
}

} // namespace
