// The online-RL objectives against independent float64 NumPy
// implementations of the published equations (tests/oracles/rl_reference.py):
// GRPO's group advantages and its clipped, KL-regularised loss for every
// loss type; the KL estimators; PPO's KL-penalised rewards, GAE, whitening,
// clipped policy and value losses and the adaptive KL controller. Fixed
// float32 inputs put the ratios on both sides of the clipping ranges. All
// cases go to one Python process.
//
// Tolerance: |ours - reference| <= 1e-6 * max(|reference|, 1): float32
// arithmetic on float32 inputs, summed over a few dozen tokens (the host's
// float64 parts agree to 1e-12).
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/train/methods/grpo_loss.h"
#include "mlxt/train/methods/kl.h"
#include "mlxt/train/methods/ppo_loss.h"
#include "support/numeric_compare.h"
#include "support/test_support.h"

namespace {

namespace mx = mlx::core;
using nlohmann::json;
using namespace mlxt;
namespace mt = mlxt::testing;

constexpr double kTol = 1e-6;
constexpr int kRows = 6; // three groups of two completions
constexpr int kTokens = 7;

// Values uniform in [lo, hi), rounded to float32 so both sides read the same.
std::vector<double> uniform(std::mt19937& rng, size_t n, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) {
    x = static_cast<float>(u(rng));
  }
  return v;
}

std::vector<std::vector<double>> rows(const std::vector<double>& flat) {
  std::vector<std::vector<double>> out;
  for (int i = 0; i < kRows; ++i) {
    out.emplace_back(flat.begin() + i * kTokens,
                     flat.begin() + (i + 1) * kTokens);
  }
  return out;
}

struct GrpoInputs {
  std::vector<double> logps, old_logps, ref_logps, mask, advantages;
};

GrpoInputs grpo_inputs(unsigned seed) {
  std::mt19937 rng(seed);
  GrpoInputs in;
  in.logps = uniform(rng, kRows * kTokens, -3.0, -0.05);
  // Off-policy by up to +-0.5 nats: ratios from ~0.6 to ~1.65.
  const std::vector<double> shift = uniform(rng, kRows * kTokens, -0.5, 0.5);
  const std::vector<double> ref_shift =
      uniform(rng, kRows * kTokens, -0.8, 0.8);
  for (size_t i = 0; i < in.logps.size(); ++i) {
    in.old_logps.push_back(static_cast<float>(in.logps[i] + shift[i]));
    in.ref_logps.push_back(static_cast<float>(in.logps[i] + ref_shift[i]));
  }
  // Completions of different lengths (right-padded): row i has 2 + i
  // tokens, capped at kTokens.
  for (int i = 0; i < kRows; ++i) {
    for (int t = 0; t < kTokens; ++t) {
      in.mask.push_back(t < std::min(2 + i, kTokens) ? 1.0 : 0.0);
    }
  }
  std::vector<double> rewards = {1.0, 0.0, 0.5, 0.5, 0.0, 1.0};
  for (double a :
       train::group_advantages(rewards, 2, config::RewardScaling::group)) {
    in.advantages.push_back(static_cast<float>(a));
  }
  return in;
}

struct GrpoCase {
  std::string name;
  train::GrpoLossOptions options;
};

std::vector<GrpoCase> grpo_cases() {
  using config::GrpoLossType;
  return {
      {"grpo_dapo", {0.2, 0.28, 0.04, GrpoLossType::dapo, 16}},
      {"grpo_grpo", {0.2, 0.2, 0.1, GrpoLossType::grpo, 16}},
      {"grpo_dr_grpo", {0.1, 0.3, 0.0, GrpoLossType::dr_grpo, 16}},
  };
}

json grpo_case_json(const GrpoCase& c, const GrpoInputs& in) {
  return {{"name", c.name},
          {"kind", "grpo"},
          {"logps", rows(in.logps)},
          {"old_logps", rows(in.old_logps)},
          {"ref_logps", rows(in.ref_logps)},
          {"mask", rows(in.mask)},
          {"advantages", in.advantages},
          {"epsilon", c.options.epsilon},
          {"epsilon_high", c.options.epsilon_high},
          {"kl_coef", c.options.kl_coef},
          {"loss_type", config::to_string(c.options.type)},
          {"max_completion_length", c.options.max_completion_length}};
}

struct AdvantageCase {
  std::string name;
  std::vector<double> rewards;
  int group_size;
  config::RewardScaling scale;
};

std::vector<AdvantageCase> advantage_cases() {
  using config::RewardScaling;
  const std::vector<double> r = {
      0.0, 1.0, 1.0, 0.25, 3.0, -1.0, 2.0, 2.0, 0.5, 0.5, 0.75, 0.0};
  return {{"adv_group4", r, 4, RewardScaling::group},
          {"adv_batch3", r, 3, RewardScaling::batch},
          {"adv_none6", r, 6, RewardScaling::none},
          // A group whose rewards are all equal: advantage 0, no NaN.
          {"adv_flat2", {1.0, 1.0, 0.0, 1.0}, 2, RewardScaling::group}};
}

// PPO's rollout phase: three completions of lengths 3, 1 and 5.
struct GaeRow {
  std::vector<double> kl, values;
  double score;
};
const std::vector<GaeRow> kGaeRows = {
    {{0.1, -0.05, 0.2}, {0.5, 0.4, 0.9}, 1.0},
    {{0.3}, {-0.2}, 0.0},
    {{0.0, 0.02, -0.1, 0.05, 0.4}, {0.1, 0.2, 0.3, 0.2, 0.1}, -0.5}};
constexpr double kGaeKlCoef = 0.05, kGamma = 0.99, kLambda = 0.95;

json gae_case() {
  json rows = json::array();
  for (const auto& r : kGaeRows) {
    rows.push_back({{"kl", r.kl}, {"values", r.values}, {"score", r.score}});
  }
  return {{"name", "gae"},
          {"kind", "gae"},
          {"rows", rows},
          {"kl_coef", kGaeKlCoef},
          {"gamma", kGamma},
          {"lam", kLambda}};
}

struct PpoInputs {
  std::vector<double> logps, old_logps, values, old_values, advantages, returns,
      mask;
};

PpoInputs ppo_inputs(unsigned seed) {
  std::mt19937 rng(seed);
  const GrpoInputs g = grpo_inputs(seed);
  PpoInputs in{g.logps, g.old_logps, {}, {}, {}, {}, g.mask};
  const size_t n = in.logps.size();
  in.values = uniform(rng, n, -1.0, 1.0);
  const std::vector<double> drift = uniform(rng, n, -0.4, 0.4);
  for (size_t i = 0; i < n; ++i) {
    in.old_values.push_back(static_cast<float>(in.values[i] + drift[i]));
  }
  in.advantages = uniform(rng, n, -1.5, 1.5);
  in.returns = uniform(rng, n, -1.0, 1.5);
  return in;
}

const train::PpoLossOptions kPpo{
    .cliprange = 0.2, .cliprange_value = 0.15, .vf_coef = 0.1};

json ppo_case(const PpoInputs& in) {
  return {{"name", "ppo"},
          {"kind", "ppo"},
          {"logps", rows(in.logps)},
          {"old_logps", rows(in.old_logps)},
          {"values", rows(in.values)},
          {"old_values", rows(in.old_values)},
          {"advantages", rows(in.advantages)},
          {"returns", rows(in.returns)},
          {"mask", rows(in.mask)},
          {"cliprange", kPpo.cliprange},
          {"cliprange_value", kPpo.cliprange_value},
          {"vf_coef", kPpo.vf_coef}};
}

const std::vector<std::pair<double, double>> kKlUpdates = {
    {12.0, 16}, {3.0, 16}, {6.3, 64}, {0.0, 8}};

const json& references() {
  static const json by_name = [] {
    json cases = json::array();
    const GrpoInputs in = grpo_inputs(7);
    for (const auto& c : grpo_cases()) {
      cases.push_back(grpo_case_json(c, in));
    }
    for (const auto& c : advantage_cases()) {
      cases.push_back({{"name", c.name},
                       {"kind", "advantages"},
                       {"rewards", c.rewards},
                       {"group_size", c.group_size},
                       {"scale", config::to_string(c.scale)}});
    }
    cases.push_back({{"name", "kl"},
                     {"kind", "kl"},
                     {"logps", in.logps},
                     {"ref_logps", in.ref_logps}});
    cases.push_back(gae_case());
    cases.push_back(ppo_case(ppo_inputs(11)));
    cases.push_back({{"name", "adaptive_kl"},
                     {"kind", "adaptive_kl"},
                     {"init", 0.2},
                     {"target", 6.0},
                     {"horizon", 10000.0},
                     {"updates", kKlUpdates}});
    mt::TempDir dir;
    mt::write_file(dir / "cases.json", json{{"cases", cases}}.dump());
    auto run = mt::run_command(
        {mt::reference_python(),
         (mt::source_dir() / "tests/oracles/rl_reference.py").string(),
         (dir / "cases.json").string(),
         (dir / "out.json").string()});
    json out = json::object();
    if (run.exit_code != 0) {
      ADD_FAILURE() << "rl_reference.py failed:\n" << run.output;
      return out;
    }
    const json answers = json::parse(mt::read_file(dir / "out.json"));
    for (const auto& r : answers["cases"]) {
      out[r["name"].get<std::string>()] = r;
    }
    return out;
  }();
  return by_name;
}

#define SKIP_WITHOUT_PYTHON()                                                  \
  if (!mt::have_reference_python()) {                                          \
    GTEST_SKIP() << "reference Python not found (" << mt::reference_python()   \
                 << ")";                                                       \
  }

TEST(RlObjectivesParity, GroupAdvantagesMatchNumPy) {
  SKIP_WITHOUT_PYTHON();
  for (const auto& c : advantage_cases()) {
    SCOPED_TRACE(c.name);
    const json& want = references().at(c.name)["advantages"];
    const std::vector<double> got =
        train::group_advantages(c.rewards, c.group_size, c.scale);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      mt::expect_close(got[i],
                       want[i].get<double>(),
                       1e-12,
                       1.0,
                       "advantage " + std::to_string(i));
    }
  }
}

TEST(RlObjectivesParity, GrpoLossEveryTypeMatchesNumPy) {
  SKIP_WITHOUT_PYTHON();
  const GrpoInputs in = grpo_inputs(7);
  const mx::Shape shape = {kRows, kTokens};
  for (const auto& c : grpo_cases()) {
    SCOPED_TRACE(c.name);
    std::vector<mx::array> out =
        train::grpo_loss_sums(mt::from_doubles(in.logps, shape),
                              mt::from_doubles(in.old_logps, shape),
                              mt::from_doubles(in.ref_logps, shape),
                              mt::from_doubles(in.advantages, {kRows}),
                              mt::from_doubles(in.mask, shape),
                              c.options);
    mx::eval(out);
    const json& want = references().at(c.name);
    const char* keys[] = {"loss", "count", "kl", "clip_fraction"};
    ASSERT_EQ(out.size(), 4u);
    for (size_t k = 0; k < 4; ++k) {
      mt::expect_close(out[k].item<float>(),
                       want[keys[k]].get<double>(),
                       kTol,
                       1.0,
                       keys[k]);
    }
    // The inputs exercise clipping on both sides.
    EXPECT_GT(want["clip_fraction"].get<double>(), 0.0);
  }
}

TEST(RlObjectivesParity, KlEstimatorsMatchNumPy) {
  SKIP_WITHOUT_PYTHON();
  const GrpoInputs in = grpo_inputs(7);
  const mx::Shape shape = {kRows * kTokens};
  const json& want = references().at("kl");
  for (auto [name, estimator] : {std::pair{"k1", train::KlEstimator::k1},
                                 std::pair{"k2", train::KlEstimator::k2},
                                 std::pair{"k3", train::KlEstimator::k3}}) {
    const std::vector<double> got =
        mt::to_doubles(train::kl_estimate(mt::from_doubles(in.logps, shape),
                                          mt::from_doubles(in.ref_logps, shape),
                                          estimator));
    for (size_t i = 0; i < got.size(); ++i) {
      mt::expect_close(got[i],
                       want[name][i].get<double>(),
                       kTol,
                       1.0,
                       std::string(name) + "[" + std::to_string(i) + "]");
    }
  }
}

TEST(RlObjectivesParity, PpoRewardsGaeAndWhiteningMatchNumPy) {
  SKIP_WITHOUT_PYTHON();
  const json& want = references().at("gae");
  std::vector<std::vector<double>> advantages;
  for (size_t r = 0; r < kGaeRows.size(); ++r) {
    SCOPED_TRACE("row " + std::to_string(r));
    const std::vector<double> rewards = train::kl_penalised_rewards(
        kGaeRows[r].score, kGaeRows[r].kl, kGaeKlCoef);
    const train::Gae g =
        train::gae(rewards, kGaeRows[r].values, kGamma, kLambda);
    for (size_t t = 0; t < rewards.size(); ++t) {
      mt::expect_close(
          rewards[t], want["rewards"][r][t].get<double>(), 1e-12, 1.0, "r");
      mt::expect_close(g.advantages[t],
                       want["advantages"][r][t].get<double>(),
                       1e-12,
                       1.0,
                       "A");
      mt::expect_close(
          g.returns[t], want["returns"][r][t].get<double>(), 1e-12, 1.0, "R");
    }
    advantages.push_back(g.advantages);
  }
  train::whiten(advantages);
  for (size_t r = 0; r < advantages.size(); ++r) {
    for (size_t t = 0; t < advantages[r].size(); ++t) {
      mt::expect_close(advantages[r][t],
                       want["whitened"][r][t].get<double>(),
                       1e-12,
                       1.0,
                       "whitened");
    }
  }
}

TEST(RlObjectivesParity, PpoClippedLossesMatchNumPy) {
  SKIP_WITHOUT_PYTHON();
  const PpoInputs in = ppo_inputs(11);
  const mx::Shape shape = {kRows, kTokens};
  auto arr = [&shape](const std::vector<double>& v) {
    return mt::from_doubles(v, shape);
  };
  std::vector<mx::array> out = train::ppo_loss_sums(arr(in.logps),
                                                    arr(in.old_logps),
                                                    arr(in.values),
                                                    arr(in.old_values),
                                                    arr(in.advantages),
                                                    arr(in.returns),
                                                    arr(in.mask),
                                                    kPpo);
  mx::eval(out);
  const json& want = references().at("ppo");
  const std::vector<std::string> keys = {"loss",
                                         "count",
                                         "policy_loss",
                                         "value_loss",
                                         "clip_fraction",
                                         "value_clip_fraction"};
  ASSERT_EQ(out.size(), keys.size());
  for (size_t k = 0; k < keys.size(); ++k) {
    mt::expect_close(
        out[k].item<float>(), want[keys[k]].get<double>(), kTol, 1.0, keys[k]);
  }
  EXPECT_GT(want["clip_fraction"].get<double>(), 0.0);
  EXPECT_GT(want["value_clip_fraction"].get<double>(), 0.0);
}

TEST(RlObjectivesParity, AdaptiveKlControllerMatchesNumPy) {
  SKIP_WITHOUT_PYTHON();
  train::AdaptiveKlController controller(0.2, 6.0, 10000.0);
  const json& want = references().at("adaptive_kl")["values"];
  for (size_t i = 0; i < kKlUpdates.size(); ++i) {
    controller.update(kKlUpdates[i].first, kKlUpdates[i].second);
    mt::expect_close(
        controller.value(), want[i].get<double>(), 1e-12, 1.0, "kl_coef");
  }
  // Its state round-trips (a resumed run continues with the same value).
  train::AdaptiveKlController resumed(1.0, 6.0, 10000.0);
  resumed.restore(controller.state());
  EXPECT_EQ(resumed.value(), controller.value());
}

} // namespace
