// Every optimizer against independent references: after k steps on random
// float32 tensors, our weights and state match tests/oracles/optim_reference.py
// (NumPy float64 formulas) and, for Adafactor, LAMB, Lion and NovoGrad, optax
// on the CPU in float64. All cases go to one Python process per run.
//
// Tolerance: an element x of a tensor X with reference r passes when
// |x - r| <= 1e-6 * max(|r|, RMS(R)), R the reference tensor: 1e-6 relative,
// with elements that cancel towards 0 compared on their tensor's scale
// rather than their own (float32 rounds them on that scale).
#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/optim/catalogue.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/schedule.h"
#include "support/numeric_compare.h"
#include "support/test_support.h"

namespace {

namespace mx = mlx::core;
using nlohmann::json;
using namespace mlxt::optim;

constexpr double kRelTol = 1e-6;
// The two references in float64 should agree far below our tolerance.
constexpr double kOracleAgreement = 1e-12;
constexpr double kOracleAgreementAdafactor = 1e-8;
constexpr int kSteps = 8;

// A matrix, a vector (never factored), a 3-D tensor (Adafactor factors its
// last two axes per leading index) and a tall matrix.
const std::vector<mx::Shape> kShapes{{4, 6}, {7}, {2, 3, 5}, {16, 8}};

// Warm-up from 1e-3 over 2 steps to a cosine from 1e-2 to 1e-3 over 5.
json warmup_cosine() {
  return {{"name", "cosine_decay"},
          {"params", {{"init", 1e-2}, {"steps", 5}, {"end", 1e-3}}},
          {"warmup", 2},
          {"warmup_init", 1e-3}};
}

json plain(const std::string& name, json params) {
  return {{"name", name},
          {"params", std::move(params)},
          {"warmup", 0},
          {"warmup_init", 0.0}};
}

struct Case {
  std::string name;
  std::string optimizer;
  json hyper; // catalogue parameters; the rest take their defaults
  json schedule = warmup_cosine();
  bool optax = false;
  // When set, optax cannot be configured to our variant: the oracle must
  // refuse with a reason containing this, and only NumPy compares.
  std::string optax_refusal;
};

std::vector<Case> cases() {
  return {
      {"adamw", "adamw", {{"weight_decay", 0.1}}},
      {"adamw_bias_correction",
       "adamw",
       {{"weight_decay", 0.1}, {"bias_correction", true}}},
      {"adam_bias_correction",
       "adamw",
       {{"weight_decay", 0.0}, {"bias_correction", true}}},
      {"adam_no_bias_correction",
       "adamw",
       {{"weight_decay", 0.0}, {"beta2", 0.99}, {"eps", 1e-6}},
       plain("linear_schedule", {{"init", 1e-2}, {"end", 1e-3}, {"steps", 6}})},
      {"sgd", "sgd", json::object()},
      {"sgd_decay",
       "sgd",
       {{"weight_decay", 0.1}},
       plain("step_decay", {{"init", 1e-1}, {"rate", 0.5}, {"step_size", 3}})},
      {"sgd_momentum", "sgd", {{"momentum", 0.9}}},
      {"sgd_momentum_dampening_decay",
       "sgd",
       {{"momentum", 0.9}, {"dampening", 0.1}, {"weight_decay", 0.01}}},
      {"sgd_nesterov_decay",
       "sgd",
       {{"momentum", 0.8}, {"nesterov", true}, {"weight_decay", 0.01}},
       plain("exponential_decay", {{"init", 5e-2}, {"rate", 0.9}})},
      {"lion", "lion", json::object(), warmup_cosine(), true},
      {"lion_decay",
       "lion",
       {{"beta1", 0.95}, {"beta2", 0.98}, {"weight_decay", 0.1}},
       warmup_cosine(),
       true},
      {"adafactor", "adafactor", json::object(), warmup_cosine(), true},
      {"adafactor_beta1_clip",
       "adafactor",
       {{"beta1", 0.9}, {"clip_threshold", 0.5}},
       warmup_cosine(),
       true},
      {"adafactor_unscaled",
       "adafactor",
       {{"scale_parameter", false}, {"decay_rate", -0.5}, {"eps1", 1e-20}},
       plain("constant", {{"value", 1e-2}}),
       true},
      {"adafactor_relative_step",
       "adafactor",
       {{"relative_step", true}},
       warmup_cosine(),
       true},
      {"adafactor_relative_step_warmup_beta1",
       "adafactor",
       {{"relative_step", true}, {"warmup_init", true}, {"beta1", 0.9}},
       warmup_cosine(),
       true},
      // optax decays by weight_decay_rate * w, not scaled by alpha_t, and
      // floors RMS(w) at a fixed 1e-3: NumPy only, and the oracle says why.
      {"adafactor_decay_eps2",
       "adafactor",
       {{"weight_decay", 0.1}, {"beta1", 0.9}, {"eps2", 1e-2}},
       warmup_cosine(),
       true,
       "unscaled by alpha_t"},
      {"lamb", "lamb", json::object(), warmup_cosine(), true},
      {"lamb_no_decay",
       "lamb",
       {{"weight_decay", 0.0}, {"eps", 1e-8}},
       plain("polynomial_decay",
             {{"init", 1e-2}, {"end", 1e-4}, {"steps", 6}, {"power", 2.0}}),
       true},
      {"novograd", "novograd", json::object(), warmup_cosine(), true},
      {"novograd_decay",
       "novograd",
       {{"beta1", 0.9}, {"beta2", 0.5}, {"weight_decay", 0.01}},
       warmup_cosine(),
       true},
  };
}

Schedule build_schedule(const json& s) {
  auto schedule = make_schedule(s["name"], s["params"]);
  const int warmup = s["warmup"];
  return warmup > 0
             ? with_warmup(schedule, warmup, s["warmup_init"].get<float>())
             : schedule;
}

std::string param_name(size_t i) {
  return "p" + std::to_string(i);
}

// One case's inputs: float32 values (held as doubles) from a per-case seed.
struct Inputs {
  std::vector<std::vector<double>> params;
  std::vector<std::vector<std::vector<double>>> grads; // [step][param]
};

Inputs make_inputs(unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto fill = [&](const mx::Shape& shape, float scale) {
    size_t n = 1;
    for (auto d : shape) {
      n *= d;
    }
    std::vector<double> out(n);
    for (auto& x : out) {
      x = static_cast<double>(scale * normal(rng));
    }
    return out;
  };
  Inputs in;
  for (const auto& s : kShapes) {
    in.params.push_back(fill(s, 1.0f));
  }
  for (int k = 0; k < kSteps; ++k) {
    in.grads.emplace_back();
    for (const auto& s : kShapes) {
      in.grads.back().push_back(fill(s, 0.5f));
    }
  }
  return in;
}

// What we computed for a case: weights, state by name, lr per step.
struct Ours {
  std::vector<std::vector<double>> params;
  std::map<std::string, std::vector<double>> state; // "p0.m" -> values
  std::vector<double> lr;
};

Ours run_ours(const Case& c, const Inputs& in) {
  auto schedule = build_schedule(c.schedule);
  auto opt = make_optimizer(c.optimizer, c.hyper, schedule);
  std::vector<mx::array> params;
  std::vector<std::string> names;
  for (size_t i = 0; i < kShapes.size(); ++i) {
    params.push_back(mlxt::testing::from_doubles(in.params[i], kShapes[i]));
    names.push_back(param_name(i));
  }
  auto state = opt->init_state(params);
  Ours ours;
  for (int k = 0; k < kSteps; ++k) {
    std::vector<mx::array> grads;
    for (size_t i = 0; i < kShapes.size(); ++i) {
      grads.push_back(mlxt::testing::from_doubles(in.grads[k][i], kShapes[i]));
    }
    std::tie(params, state) = opt->update(
        params, grads, state, mlxt::testing::step_array(uint64_t(k)));
    mx::eval(params);
    mx::eval(state);
    ours.lr.push_back(schedule_value(schedule, k));
  }
  for (const auto& p : params) {
    EXPECT_EQ(p.dtype(), mx::float32);
    ours.params.push_back(mlxt::testing::to_doubles(p));
  }
  const auto state_names = opt->state_names(names);
  EXPECT_EQ(state_names.size(), state.size());
  for (size_t j = 0; j < std::min(state.size(), state_names.size()); ++j) {
    ours.state[state_names[j]] = mlxt::testing::to_doubles(state[j]);
  }
  return ours;
}

json tensor_json(const mx::Shape& shape, const std::vector<double>& values) {
  return {{"shape", std::vector<int>(shape.begin(), shape.end())},
          {"values", values}};
}

json case_json(const Case& c, const Inputs& in) {
  const auto& spec = optimizer_spec(c.optimizer);
  json params = json::array();
  for (size_t i = 0; i < kShapes.size(); ++i) {
    params.push_back(tensor_json(kShapes[i], in.params[i]));
  }
  return {{"name", c.name},
          {"optimizer", c.optimizer},
          {"hyper", resolve_params(c.optimizer, spec.params, c.hyper)},
          {"schedule", c.schedule},
          {"params", params},
          {"grads", in.grads},
          {"optax", c.optax}};
}

unsigned seed_of(size_t index) {
  return 1000u + static_cast<unsigned>(index);
}

// The references' answers for every case, from one Python run, by name.
// Null when the reference Python is missing.
const json* reference_results() {
  static const json results = [] {
    if (!mlxt::testing::have_reference_python()) {
      return json();
    }
    json all = json::array();
    const auto list = cases();
    for (size_t i = 0; i < list.size(); ++i) {
      all.push_back(case_json(list[i], make_inputs(seed_of(i))));
    }
    mlxt::testing::TempDir dir;
    mlxt::testing::write_file(dir / "cases.json", json{{"cases", all}}.dump());
    auto run = mlxt::testing::run_command(
        {mlxt::testing::reference_python(),
         (mlxt::testing::source_dir() / "tests/oracles/optim_reference.py")
             .string(),
         (dir / "cases.json").string(),
         (dir / "out.json").string()});
    if (run.exit_code != 0) {
      ADD_FAILURE() << "optim_reference.py failed:\n" << run.output;
      return json();
    }
    const json out = json::parse(mlxt::testing::read_file(dir / "out.json"));
    json by_name = json::object();
    for (const auto& r : out["cases"]) {
      by_name[r["name"].get<std::string>()] = r;
    }
    return by_name;
  }();
  return results.is_null() ? nullptr : &results;
}

// Expects `got` to match `want` element-wise under the file's tolerance
// scheme scaled by `rel`; reports the worst element only.
void expect_tensor_close(const std::vector<double>& got,
                         const std::vector<double>& want,
                         double rel,
                         const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double sum_sq = 0.0;
  for (double r : want) {
    sum_sq += r * r;
  }
  const double scale = want.empty() ? 0.0 : std::sqrt(sum_sq / want.size());
  double worst = 0.0;
  size_t worst_at = 0;
  for (size_t j = 0; j < want.size(); ++j) {
    const double err = std::abs(got[j] - want[j]);
    const double tol = rel * std::max(std::abs(want[j]), scale);
    // err > 0 with tol == 0 (an exact zero expected) is a failure too.
    const double ratio = err == 0.0 ? 0.0 : (tol > 0.0 ? err / tol : INFINITY);
    if (ratio > worst) {
      worst = ratio;
      worst_at = j;
    }
  }
  EXPECT_LE(worst, 1.0) << what << "[" << worst_at << "]: got " << got[worst_at]
                        << ", expected " << want[worst_at] << " (error "
                        << worst << " x the tolerance)";
}

// Compares one case with the references' answer `ref`.
void expect_case_matches(const Case& c, const Ours& ours, const json& ref) {
  const auto ref_lr = ref["lr"].get<std::vector<double>>();
  expect_tensor_close(ours.lr, ref_lr, kRelTol, "learning rate per step");

  const json& numpy = ref["numpy"];
  std::map<std::string, std::vector<double>> ref_state;
  for (size_t i = 0; i < kShapes.size(); ++i) {
    const auto name = param_name(i);
    expect_tensor_close(ours.params[i],
                        numpy["params"][i].get<std::vector<double>>(),
                        kRelTol,
                        "numpy: " + name);
    for (const auto& [slot, values] : numpy["state"][i].items()) {
      ref_state[name + "." + slot] = values.get<std::vector<double>>();
    }
  }
  // Same slots (state_names is the checkpoint layout), same values.
  std::vector<std::string> ours_names, ref_names;
  for (const auto& [n, v] : ours.state) {
    ours_names.push_back(n);
  }
  for (const auto& [n, v] : ref_state) {
    ref_names.push_back(n);
  }
  EXPECT_EQ(ours_names, ref_names);
  for (const auto& [n, want] : ref_state) {
    if (ours.state.count(n)) {
      expect_tensor_close(ours.state.at(n), want, kRelTol, "numpy: state " + n);
    }
  }

  ASSERT_EQ(ref.contains("optax"), c.optax);
  if (!c.optax) {
    return;
  }
  const json& optax = ref["optax"];
  if (!c.optax_refusal.empty()) {
    ASSERT_TRUE(optax.contains("refused")) << optax.dump().substr(0, 200);
    EXPECT_NE(optax["refused"].get<std::string>().find(c.optax_refusal),
              std::string::npos)
        << optax["refused"];
    return;
  }
  ASSERT_TRUE(optax.contains("params")) << optax.dump().substr(0, 200);
  // optax.adafactor computes beta2_t = 1 - t^-0.8 in float32 even under
  // jax x64; that rounding is all that separates the two references.
  const double agreement =
      c.optimizer == "adafactor" ? kOracleAgreementAdafactor : kOracleAgreement;
  for (size_t i = 0; i < kShapes.size(); ++i) {
    const auto want = optax["params"][i].get<std::vector<double>>();
    expect_tensor_close(
        ours.params[i], want, kRelTol, "optax: " + param_name(i));
    expect_tensor_close(numpy["params"][i].get<std::vector<double>>(),
                        want,
                        agreement,
                        "numpy vs optax: " + param_name(i));
  }
}

// One test for every case, so a ctest run starts Python once.
TEST(OptimizerParity, EveryCaseMatchesTheReferencesAfterKSteps) {
  const json* refs = reference_results();
  if (refs == nullptr) {
    GTEST_SKIP() << "reference Python not found ("
                 << mlxt::testing::reference_python()
                 << "); run scripts/setup --test";
  }
  const auto list = cases();
  ASSERT_EQ(refs->size(), list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    SCOPED_TRACE("case " + list[i].name);
    ASSERT_TRUE(refs->contains(list[i].name));
    expect_case_matches(list[i],
                        run_ours(list[i], make_inputs(seed_of(i))),
                        (*refs)[list[i].name]);
  }
}

} // namespace
