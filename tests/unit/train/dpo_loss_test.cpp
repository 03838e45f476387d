// DPO's losses and rewards (train/methods/dpo_loss.h) against the published
// formulas written out in double precision on small known log-probs, and the
// model-level loss (train/methods/dpo_forward.h) against separate forwards.
#include <algorithm>
#include <cmath>
#include <vector>

#include "mlxt/models/init.h"
#include "mlxt/models/transformer.h"
#include "mlxt/train/lora.h"
#include "mlxt/train/loss.h"
#include "mlxt/train/methods/dpo_forward.h"
#include "support/test_support.h"

namespace {

using namespace mlxt;
using config::DpoLossType;

// Two pairs: policy and reference log-probs of the chosen and rejected side.
const std::vector<double> kPiC = {-4.0, -7.5};
const std::vector<double> kPiR = {-6.0, -5.0};
const std::vector<double> kRefC = {-5.0, -7.0};
const std::vector<double> kRefR = {-5.5, -6.0};

double log_sigmoid(double x) {
  return -std::log1p(std::exp(-x));
}

std::vector<float> evaluated(const train::DpoLossOptions& options) {
  auto arr = [](const std::vector<double>& v) {
    std::vector<float> f(v.begin(), v.end());
    return mx::array(f.begin(), {static_cast<int>(f.size())}, mx::float32);
  };
  // Lengths of 1: averaged and summed log-probs are the same.
  const mx::array ones = mx::ones({2});
  std::vector<mx::array> out =
      train::dpo_loss_sums({arr(kPiC), arr(kPiR)},
                           train::PairValues{arr(kRefC), arr(kRefR)},
                           {ones, ones},
                           options);
  mx::eval(out);
  std::vector<float> values;
  for (const auto& a : out) {
    values.push_back(a.item<float>());
  }
  return values;
}

// h = (pi_c - ref_c) - (pi_r - ref_r) of pair i.
double h(size_t i) {
  return (kPiC[i] - kRefC[i]) - (kPiR[i] - kRefR[i]);
}

TEST(DpoLoss, SigmoidWithLabelSmoothingMatchesTheFormula) {
  const double beta = 0.1;
  const double ls = 0.2;
  std::vector<float> out = evaluated({beta, ls, DpoLossType::sigmoid});
  double loss = 0;
  for (size_t i = 0; i < 2; ++i) {
    loss +=
        -(1 - ls) * log_sigmoid(beta * h(i)) - ls * log_sigmoid(-beta * h(i));
  }
  EXPECT_NEAR(out[0], loss, 1e-6);
  EXPECT_EQ(out[1], 2.0f);
}

TEST(DpoLoss, IpoAndHingeMatchTheFormulas) {
  const double beta = 0.5;
  std::vector<float> ipo = evaluated({beta, 0.0, DpoLossType::ipo});
  std::vector<float> hinge = evaluated({beta, 0.0, DpoLossType::hinge});
  double ipo_sum = 0;
  double hinge_sum = 0;
  for (size_t i = 0; i < 2; ++i) {
    ipo_sum += std::pow(h(i) - 1 / (2 * beta), 2);
    hinge_sum += std::max(0.0, 1 - beta * h(i));
  }
  EXPECT_NEAR(ipo[0], ipo_sum, 1e-5);
  EXPECT_NEAR(hinge[0], hinge_sum, 1e-6);
}

TEST(DpoLoss, RewardsMarginAndAccuracy) {
  const double beta = 0.1;
  std::vector<float> out = evaluated({beta, 0.0, DpoLossType::sigmoid});
  double chosen = 0;
  double rejected = 0;
  double accurate = 0;
  for (size_t i = 0; i < 2; ++i) {
    const double rc = beta * (kPiC[i] - kRefC[i]);
    const double rr = beta * (kPiR[i] - kRefR[i]);
    chosen += rc;
    rejected += rr;
    accurate += rc > rr;
  }
  EXPECT_NEAR(out[2], chosen, 1e-6);
  EXPECT_NEAR(out[3], rejected, 1e-6);
  EXPECT_NEAR(out[4], chosen - rejected, 1e-6);
  EXPECT_EQ(out[5], accurate); // pair 0 right (h = 1.5), pair 1 wrong
  EXPECT_EQ(accurate, 1.0);
}

TEST(DpoLoss, EqualPolicyAndReferenceGiveLogTwo) {
  auto a = mx::array({-3.0f, -2.0f}, {2});
  auto b = mx::array({-1.0f, -4.0f}, {2});
  const mx::array ones = mx::ones({2});
  std::vector<mx::array> out =
      train::dpo_loss_sums({a, b},
                           train::PairValues{a, b},
                           {ones, ones},
                           {0.1, 0.0, DpoLossType::sigmoid});
  EXPECT_NEAR(out[0].item<float>(), 2 * std::log(2.0), 1e-6);
}

// Per-row summed log-probs of one side, one row at a time, from full logits.
mx::array side_logprobs(const models::ModelArgs& args,
                        const Params& weights,
                        const mx::array& inputs,
                        const mx::array& targets,
                        const mx::array& mask,
                        nn::ForwardContext ctx) {
  mx::array logits = models::forward(args, weights, inputs, ctx);
  const int B = inputs.shape(0);
  const std::vector<mx::array> l = mx::split(logits, B, 0);
  const std::vector<mx::array> t = mx::split(targets, B, 0);
  const std::vector<mx::array> m = mx::split(mask, B, 0);
  std::vector<mx::array> rows;
  for (int b = 0; b < B; ++b) {
    rows.push_back(
        mx::negative(train::masked_cross_entropy_sum(l[b], t[b], m[b])));
  }
  return mx::stack(rows);
}

// LoRA adapters for `weights` with a random non-zero B, so that the policy
// differs from the adapter-free reference.
Params nonzero_adapters(const models::ModelArgs& args,
                        const Params& weights,
                        uint64_t seed) {
  Params adapters = train::init_lora_adapters(
      args, weights, {.rank = 4, .num_layers = -1}, seed);
  mx::array key = mx::random::key(seed);
  for (auto& [name, value] : adapters) {
    if (name.ends_with(".lora_b")) {
      auto keys = mx::random::split(key);
      key = keys.first;
      value = mx::multiply(mx::random::normal(value.shape(), keys.second),
                           mx::array(0.05f));
    }
  }
  return adapters;
}

TEST(DpoLossFn, SidesOfDifferentLengthsMatchSeparateForwards) {
  models::Model model = models::init_model(
      {.preset = "tiny", .vocab_size = 50, .init_std = 0.2f});
  Params adapters = nonzero_adapters(model.args, model.weights, 7);
  const mx::array key = mx::random::key(7);
  Params policy = model.weights;
  policy.insert(adapters.begin(), adapters.end());
  // Chosen rows (2, 5), rejected rows (2, 3); prompt positions masked.
  const std::vector<mx::array> batch = {
      mx::array({1, 2, 3, 4, 5, 6, 7, 8, 0, 0}, {2, 5}, mx::int32),
      mx::array({2, 3, 4, 5, 6, 7, 8, 9, 0, 0}, {2, 5}, mx::int32),
      mx::array({0.f, 0.f, 1.f, 1.f, 1.f, 0.f, 1.f, 1.f, 0.f, 0.f}, {2, 5}),
      mx::array({1, 2, 9, 6, 7, 11}, {2, 3}, mx::int32),
      mx::array({2, 9, 10, 7, 11, 12}, {2, 3}, mx::int32),
      mx::array({0.f, 1.f, 1.f, 0.f, 1.f, 1.f}, {2, 3})};
  nn::ForwardContext ctx;
  ctx.lora_scale = 20.0f;
  const train::DpoLossOptions options{0.1, 0.0, DpoLossType::sigmoid};
  std::vector<mx::array> got =
      train::dpo_loss(model.args, ctx, options, {})(policy, batch, key);
  auto lp = [&](const Params& w, int side) {
    return side_logprobs(model.args,
                         w,
                         batch[3 * side],
                         batch[3 * side + 1],
                         batch[3 * side + 2],
                         ctx);
  };
  std::vector<mx::array> want = train::dpo_loss_sums(
      {lp(policy, 0), lp(policy, 1)},
      train::PairValues{lp(model.weights, 0), lp(model.weights, 1)},
      {mx::sum(batch[2], 1), mx::sum(batch[5], 1)},
      options);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i].item<float>(), want[i].item<float>(), 1e-5) << i;
  }
  EXPECT_GT(std::abs(got[4].item<float>()), 1e-3); // the margin is not 0
}

// QLoRA: over a 4-bit base, a policy that starts from adapters and keeps a
// frozen "ref." copy of them equals its reference (loss log 2, margin 0);
// without the copy, the reference is the bare quantized base.
TEST(DpoLossFn, QuantizedBaseWithStartingAdaptersStartsAtLogTwo) {
  models::Model model = models::init_model(
      {.preset = "tiny", .vocab_size = 50, .init_std = 0.2f});
  Params base;
  for (const auto& [name, w] : model.weights) {
    if (name.starts_with("model.layers.") && name.ends_with(".weight") &&
        w.ndim() == 2) {
      std::vector<mx::array> q = mx::quantize(w, 32, 4);
      const std::string prefix = name.substr(0, name.size() - 7);
      base.insert_or_assign(name, q[0]);
      base.insert_or_assign(prefix + ".scales", q[1]);
      base.insert_or_assign(prefix + ".biases", q[2]);
    } else {
      base.insert_or_assign(name, w);
    }
  }
  model.args.quantization = models::Quantization{.group_size = 32, .bits = 4};
  const Params adapters = nonzero_adapters(model.args, base, 11);
  const mx::array key = mx::random::key(11);
  Params policy = base;
  policy.insert(adapters.begin(), adapters.end());
  Params with_copy = policy;
  for (const auto& [name, value] : adapters) {
    with_copy.insert_or_assign(train::kReferencePrefix + name, value);
  }
  const std::vector<mx::array> batch = {
      mx::array({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4}, mx::int32),
      mx::array({2, 3, 4, 5, 6, 7, 8, 9}, {2, 4}, mx::int32),
      mx::array({0.f, 1.f, 1.f, 1.f, 0.f, 0.f, 1.f, 1.f}, {2, 4}),
      mx::array({1, 2, 9, 6, 7, 11}, {2, 3}, mx::int32),
      mx::array({2, 9, 10, 7, 11, 12}, {2, 3}, mx::int32),
      mx::array({0.f, 1.f, 1.f, 0.f, 1.f, 1.f}, {2, 3})};
  nn::ForwardContext ctx;
  ctx.lora_scale = 20.0f;
  const train::LossFn fn =
      train::dpo_loss(model.args,
                      ctx,
                      {0.1, 0.0, DpoLossType::sigmoid},
                      {train::ReferenceFrom::without_adapters, std::nullopt});
  std::vector<mx::array> same = fn(with_copy, batch, key);
  std::vector<mx::array> bare = fn(policy, batch, key);
  EXPECT_NEAR(same[0].item<float>(), 2 * std::log(2.0), 1e-6);
  EXPECT_NEAR(same[4].item<float>(), 0.0, 1e-6);
  EXPECT_GT(std::abs(bare[4].item<float>()), 1e-3);
}

} // namespace
