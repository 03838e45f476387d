#include <cmath>

#include "mlxt/data/batching.h"
#include "mlxt/models/init.h"
#include "mlxt/models/transformer.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/train/lora.h"
#include "mlxt/train/loss.h"
#include "mlxt/train/methods/lm_loss.h"
#include "mlxt/train/optimizer_setup.h"
#include "mlxt/train/step.h"
#include "support/test_support.h"

namespace {

using namespace mlxt;

TEST(Loss, MaskedCrossEntropyMatchesTheFormula) {
  std::vector<float> logit_values = {1.0f, 2.0f, 0.5f, -1.0f, 0.0f, 3.0f};
  mx::array logits(logit_values.begin(), {1, 2, 3}, mx::float32);
  mx::array targets = mx::array({2, 0}, {1, 2}, mx::int32);
  mx::array mask = mx::array({1.0f, 0.0f}, {1, 2});
  float lse0 = std::log(std::exp(1.0f) + std::exp(2.0f) + std::exp(0.5f));
  EXPECT_NEAR(
      train::masked_cross_entropy_sum(logits, targets, mask).item<float>(),
      lse0 - 0.5f,
      1e-6);
  mask = mx::array({1.0f, 1.0f}, {1, 2});
  float lse1 = std::log(std::exp(-1.0f) + std::exp(0.0f) + std::exp(3.0f));
  EXPECT_NEAR(
      train::masked_cross_entropy_sum(logits, targets, mask).item<float>(),
      lse0 - 0.5f + lse1 + 1.0f,
      1e-5);
}

// bf16 logits are not copied to float32: the loss and its gradient must
// still track the float32 computation to bf16's precision (8 mantissa bits).
TEST(Loss, Bfloat16LogitsTrackTheFloat32LossAndGradient) {
  mx::array logits32 = mx::multiply(
      mx::random::normal({4, 16, 1000}, mx::float32, mx::random::key(1)),
      mx::array(4.0f));
  mx::array logits16 = mx::astype(logits32, mx::bfloat16);
  // What bf16 itself cannot represent is not the loss's error.
  logits32 = mx::astype(logits16, mx::float32);
  mx::array targets =
      mx::random::randint(0, 1000, {4, 16}, mx::int32, mx::random::key(2));
  mx::array mask = mx::ones({4, 16});
  auto loss_and_grad = [&](const mx::array& logits) {
    auto [value, grad] = mx::vjp(
        [&](const std::vector<mx::array>& in) {
          return std::vector<mx::array>{
              train::masked_cross_entropy_sum(in[0], targets, mask)};
        },
        {logits},
        {mx::array(1.0f)});
    return std::pair{value[0].item<float>(), mx::astype(grad[0], mx::float32)};
  };
  auto [loss32, grad32] = loss_and_grad(logits32);
  auto [loss16, grad16] = loss_and_grad(logits16);
  EXPECT_NEAR(loss16, loss32, 2e-3 * loss32);
  // Gradient entries are softmax probabilities (minus 1 at the target).
  EXPECT_LT(mx::max(mx::abs(mx::subtract(grad16, grad32))).item<float>(),
            8e-3f);
}

TEST(Lora, FreshAdaptersLeaveTheOutputUnchanged) {
  models::Model model = models::init_model(
      {.preset = "tiny", .vocab_size = 50, .init_std = 0.2f});
  Params adapters = train::init_lora_adapters(
      model.args, model.weights, {.rank = 4, .num_layers = 1}, 3);
  // The last block only, seven linears, A and B each.
  EXPECT_EQ(adapters.size(), 14u);
  EXPECT_EQ(param(adapters, "model.layers.1.self_attn.k_proj.lora_a").shape(),
            mx::Shape({64, 4}));
  EXPECT_EQ(param(adapters, "model.layers.1.self_attn.k_proj.lora_b").shape(),
            mx::Shape({4, 32}));
  Params with = model.weights;
  with.insert(adapters.begin(), adapters.end());
  mx::array tokens = mx::array({1, 2, 3, 4}, {1, 4}, mx::int32);
  nn::ForwardContext ctx;
  EXPECT_TRUE(
      mx::array_equal(models::forward(model.args, model.weights, tokens, ctx),
                      models::forward(model.args, with, tokens, ctx))
          .item<bool>());
}

TEST(Lora, UnknownKeyIsAConfigError) {
  models::Model model =
      models::init_model({.preset = "tiny", .vocab_size = 50});
  EXPECT_MLXT_ERROR(
      train::init_lora_adapters(
          model.args, model.weights, {.keys = {"self_attn.qkv"}}, 0),
      invalid_config,
      "lora_parameters.keys");
}

std::vector<mx::array> lm_arrays(const std::vector<const data::Example*>& rows,
                                 const data::BatchOptions& options) {
  return train::lm_batch_arrays(data::make_batch(rows, options), false);
}

// Two micro-batches accumulated must give the update of one batch holding
// both: the gradient is the token-weighted mean over the whole step.
TEST(TrainStep, AccumulationMatchesOneLargeBatch) {
  models::Model model = models::init_model(
      {.preset = "tiny", .vocab_size = 50, .init_std = 0.1f});
  std::vector<data::Example> examples = {
      {{1, 2, 3, 4, 5, 6}, {0, 1, 1, 1, 1, 1}},
      {{7, 8, 9}, {0, 0, 1}},
  };
  data::BatchOptions options{
      .batch_size = 2, .pad_multiple = 4, .max_seq_length = 64};
  // A large eps makes the update ~linear in the gradient, so float rounding
  // in near-zero gradients cannot flip Adam's normalised step.
  auto optimizer = optim::make_adamw(
      {.learning_rate = optim::constant_schedule(1e-2f), .eps = 1.0f});
  auto run = [&](bool accumulate) {
    train::StepOptions step_options{
        .trainable_names = param_names(model.weights),
        .frozen_names = {},
        .loss = train::lm_loss(model.args, {}, false),
        .batch_arrays = train::lm_batch_size(false)};
    train::TrainStep step(step_options, *optimizer);
    train::TrainState state;
    state.trainable = param_values(model.weights);
    state.optimizer_state = optimizer->init_state(state.trainable);
    if (accumulate) {
      step.accumulate(state, lm_arrays({&examples[0]}, options));
      step.update(state, lm_arrays({&examples[1]}, options));
    } else {
      step.update(state, lm_arrays({&examples[0], &examples[1]}, options));
    }
    mx::eval(state.arrays());
    return state.trainable;
  };
  auto together = run(false);
  auto accumulated = run(true);
  for (size_t i = 0; i < together.size(); ++i) {
    EXPECT_TRUE(
        mx::allclose(together[i], accumulated[i], 1e-5, 1e-6).item<bool>())
        << i;
  }
}

TEST(TrainStep, LossFallsOnARepeatedBatch) {
  models::Model model =
      models::init_model({.preset = "tiny", .vocab_size = 50});
  std::vector<data::Example> examples = {
      {{1, 2, 3, 4, 5, 6, 7, 8}, {0, 1, 1, 1, 1, 1, 1, 1}}};
  data::Batch batch =
      data::make_batch({&examples[0]}, {.batch_size = 1, .pad_multiple = 8});
  auto optimizer =
      optim::make_adamw({.learning_rate = optim::constant_schedule(2e-3f)});
  train::TrainStep step({.trainable_names = param_names(model.weights),
                         .frozen_names = {},
                         .loss = train::lm_loss(model.args, {}, false),
                         .batch_arrays = train::lm_batch_size(false),
                         .max_grad_norm = 1.0f},
                        *optimizer);
  train::TrainState state;
  state.trainable = param_values(model.weights);
  state.optimizer_state = optimizer->init_state(state.trainable);
  float first = 0.0f;
  float last = 0.0f;
  for (int i = 0; i < 40; ++i) {
    train::StepResult r =
        step.update(state, train::lm_batch_arrays(batch, false));
    float loss = r.loss_sum.item<float>() / r.count.item<float>();
    (i == 0 ? first : last) = loss;
  }
  EXPECT_LT(last, 0.1f * first);
  EXPECT_EQ(state.step.item<uint64_t>(), 40u);
}

TEST(TrainStep, NonFiniteLossLeavesWeightsStateAndCounterUnchanged) {
  models::Model model =
      models::init_model({.preset = "tiny", .vocab_size = 50});
  // A NaN in a frozen weight poisons the loss and every gradient.
  Params frozen = {{"model.norm.weight",
                    mx::full({model.args.hidden_size}, NAN, mx::float32)}};
  Params trainable = model.weights;
  trainable.erase("model.norm.weight");
  std::vector<data::Example> examples = {{{1, 2, 3, 4}, {0, 1, 1, 1}}};
  data::Batch batch =
      data::make_batch({&examples[0]}, {.batch_size = 1, .pad_multiple = 4});
  auto optimizer =
      optim::make_adamw({.learning_rate = optim::constant_schedule(1e-2f)});
  train::TrainStep step({.trainable_names = param_names(trainable),
                         .frozen_names = param_names(frozen),
                         .loss = train::lm_loss(model.args, {}, false),
                         .batch_arrays = train::lm_batch_size(false)},
                        *optimizer);
  train::TrainState state;
  state.trainable = param_values(trainable);
  state.frozen = param_values(frozen);
  state.optimizer_state = optimizer->init_state(state.trainable);
  const std::vector<mx::array> weights_before = state.trainable;
  const std::vector<mx::array> state_before = state.optimizer_state;

  train::StepResult r =
      step.update(state, train::lm_batch_arrays(batch, false));
  ASSERT_TRUE(r.applied.has_value());
  EXPECT_FALSE(r.applied->item<bool>());
  EXPECT_TRUE(std::isnan(r.loss_sum.item<float>()));
  EXPECT_EQ(state.step.item<uint64_t>(), 0u);
  for (size_t i = 0; i < weights_before.size(); ++i) {
    EXPECT_TRUE(
        mx::array_equal(state.trainable[i], weights_before[i]).item<bool>())
        << i;
  }
  for (size_t i = 0; i < state_before.size(); ++i) {
    EXPECT_TRUE(
        mx::array_equal(state.optimizer_state[i], state_before[i]).item<bool>())
        << i;
  }
}

TEST(OptimizerSetup, BuildsTheConfiguredCatalogueOptimizerAndSchedule) {
  config::TrainConfig c = config::train_config_from_json(
      {{"model", "m"},
       {"data", "d"},
       {"optimizer", "lion"},
       {"optimizer_config",
        {{"lion", {{"beta1", 0.8}, {"weight_decay", 0.1}}}}},
       {"lr_schedule",
        {{"name", "polynomial_decay"},
         {"arguments", {1e-3, 1e-4, 10, 2.0}},
         {"warmup", 2}}}},
      "test");
  optim::Schedule schedule = train::make_learning_rate_schedule(c);
  optim::Schedule expected = optim::with_warmup(
      optim::polynomial_decay(1e-3f, 1e-4f, 10, 2.0f), 2, 0.0f);
  for (int step : {0, 1, 2, 5, 12, 20}) {
    EXPECT_EQ(optim::schedule_value(schedule, step),
              optim::schedule_value(expected, step))
        << step;
  }
  auto built = train::make_configured_optimizer(c, schedule, {"w"});
  auto direct = optim::make_lion({.learning_rate = expected,
                                  .beta1 = 0.8f,
                                  .beta2 = 0.99f,
                                  .weight_decay = 0.1f});
  EXPECT_EQ(built->name(), "lion");
  std::vector<mx::array> params = {
      mx::random::normal({4, 3}, mx::float32, mx::random::key(1))};
  std::vector<mx::array> grads = {
      mx::random::normal({4, 3}, mx::float32, mx::random::key(2))};
  auto a = built->update(
      params, grads, built->init_state(params), mx::array(3, mx::uint64));
  auto b = direct->update(
      params, grads, direct->init_state(params), mx::array(3, mx::uint64));
  EXPECT_TRUE(mx::array_equal(a.first[0], b.first[0]).item<bool>());
  EXPECT_TRUE(mx::array_equal(a.second[0], b.second[0]).item<bool>());
}

TEST(Batching, PaddingIsNeverATarget) {
  std::vector<data::Example> examples = {{{5, 6, 7}, {0, 1, 1}},
                                         {{1, 2, 3, 4, 5}, {0, 0, 1, 1, 1}}};
  data::Batch batch = data::make_batch({&examples[0], &examples[1]},
                                       {.batch_size = 2, .pad_multiple = 8});
  EXPECT_EQ(batch.inputs.shape(), mx::Shape({2, 8}));
  EXPECT_EQ(batch.target_tokens, 5);
  EXPECT_EQ(mx::sum(batch.mask).item<float>(), 5.0f);
  std::vector<float> row0 = {1, 1, 0, 0, 0, 0, 0, 0};
  EXPECT_TRUE(mx::array_equal(mx::slice(batch.mask, {0, 0}, {1, 8}),
                              mx::array(row0.begin(), {1, 8}))
                  .item<bool>());
}

TEST(Batching, ScheduleIsDeterministicAndCoversEachEpoch) {
  std::vector<data::Example> examples;
  for (int i = 0; i < 10; ++i) {
    examples.push_back(
        {std::vector<int32_t>(2 + i, 1), std::vector<uint8_t>(2 + i, 1)});
  }
  data::BatchSchedule a(examples, {.batch_size = 3}, 42);
  data::BatchSchedule b(examples, {.batch_size = 3}, 42);
  EXPECT_EQ(a.batches_per_epoch(), 3);
  std::set<const data::Example*> seen;
  for (long n = 0; n < 3; ++n) {
    EXPECT_EQ(a.batch(n), b.batch(n));
    for (auto* e : a.batch(n)) {
      seen.insert(e);
    }
  }
  EXPECT_EQ(seen.size(), 9u);
}

TEST(Batching, TooFewExamplesNamesBatchSize) {
  std::vector<data::Example> examples = {{{1, 2}, {0, 1}}};
  EXPECT_MLXT_ERROR(data::BatchSchedule(examples, {.batch_size = 4}, 0),
                    invalid_data,
                    "batch_size");
}

} // namespace

namespace {

// The chunked loss is the same function: same value and same gradients as
// the whole-logits loss, for a tied and an untied head.
TEST(Loss, ChunkedLmLossMatchesTheWholeLoss) {
  for (bool tied : {true, false}) {
    nlohmann::json config =
        models::preset_config({.preset = "tiny", .vocab_size = 61});
    config["tie_word_embeddings"] = tied;
    models::Model model = models::init_model_from_config(config, 2, 0.2f);
    std::vector<std::string> names = param_names(model.weights);
    mx::array tokens =
        mx::random::randint(0, 61, {2, 9}, mx::int32, mx::random::key(4));
    mx::array targets =
        mx::random::randint(0, 61, {2, 9}, mx::int32, mx::random::key(5));
    mx::array mask = mx::astype(
        mx::random::bernoulli(mx::array(0.7f), {2, 9}, mx::random::key(6)),
        mx::float32);
    auto grads_for = [&](int chunk) {
      auto fn = [&](const std::vector<mx::array>& values) {
        Params w = zip_params(names, values);
        nn::ForwardContext ctx;
        mx::array hidden = models::forward_hidden(model.args, w, tokens, ctx);
        return std::vector<mx::array>{train::chunked_lm_loss_sum(
            model.args, w, hidden, targets, mask, ctx, chunk)};
      };
      std::vector<int> argnums(names.size());
      std::iota(argnums.begin(), argnums.end(), 0);
      return mx::value_and_grad(fn, argnums)(param_values(model.weights));
    };
    auto [whole_loss, whole_grads] = grads_for(0);
    auto [chunked_loss, chunked_grads] = grads_for(5); // 18 rows: 5+5+5+3
    EXPECT_NEAR(
        whole_loss[0].item<float>(), chunked_loss[0].item<float>(), 1e-4);
    for (size_t i = 0; i < names.size(); ++i) {
      EXPECT_TRUE(mx::allclose(whole_grads[i], chunked_grads[i], 1e-4, 1e-5)
                      .item<bool>())
          << names[i] << (tied ? " tied" : " untied") << " max diff "
          << mx::max(mx::abs(mx::subtract(whole_grads[i], chunked_grads[i])))
                 .item<float>()
          << " max " << mx::max(mx::abs(whole_grads[i])).item<float>();
    }
  }
}

} // namespace
