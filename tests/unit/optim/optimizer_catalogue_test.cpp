// SGD, Lion, Adafactor, LAMB and NovoGrad: compile parity, state layout,
// dtypes and option checks; the catalogue; the exponential, step and
// polynomial decay schedules against closed forms. Their values after k
// steps are checked against the NumPy and optax references in
// tests/parity/optim_parity_test.cpp.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "mlxt/optim/catalogue.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/schedule.h"
#include "support/numeric_compare.h"
#include "support/test_support.h"

namespace mx = mlx::core;
using namespace mlxt::optim;
using mlxt::testing::expect_close;
using mlxt::testing::from_doubles;
using mlxt::testing::step_array;
using mlxt::testing::to_doubles;

namespace {

size_t numel(const mx::Shape& shape) {
  size_t n = 1;
  for (auto d : shape) {
    n *= d;
  }
  return n;
}

// A 2-D, a 1-D and a 3-D parameter: Adafactor factors the first and last.
const std::vector<mx::Shape> kShapes{{4, 6}, {7}, {2, 3, 5}};

struct Tensors {
  std::vector<std::vector<double>> params;
  std::vector<std::vector<std::vector<double>>> grads; // [step][param]
};

// Random normal parameters (scale 1) and gradients (scale 0.5) from a fixed
// seed.
Tensors make_tensors(int steps, unsigned seed) {
  Tensors t;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto fill = [&](const mx::Shape& shape, float scale) {
    std::vector<double> out(numel(shape));
    for (auto& x : out) {
      x = static_cast<double>(scale * normal(rng));
    }
    return out;
  };
  for (const auto& s : kShapes) {
    t.params.push_back(fill(s, 1.0f));
  }
  for (int k = 0; k < steps; ++k) {
    t.grads.emplace_back();
    for (const auto& s : kShapes) {
      t.grads.back().push_back(fill(s, 0.5f));
    }
  }
  return t;
}

// ---------------------------------------------------------------------------

struct Case {
  std::string name;
  std::function<std::unique_ptr<Optimizer>(Schedule)> make;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

std::vector<Case> cases() {
  return {
      {"sgd_momentum_dampening_decay",
       [](Schedule lr) {
         return make_sgd({.learning_rate = lr,
                          .momentum = 0.9f,
                          .weight_decay = 0.01f,
                          .dampening = 0.1f});
       }},
      {"sgd_nesterov",
       [](Schedule lr) {
         return make_sgd(
             {.learning_rate = lr, .momentum = 0.9f, .nesterov = true});
       }},
      {"sgd_plain_decay",
       [](Schedule lr) {
         return make_sgd({.learning_rate = lr, .weight_decay = 0.1f});
       }},
      {"lion", [](Schedule lr) { return make_lion({.learning_rate = lr}); }},
      {"lion_decay",
       [](Schedule lr) {
         return make_lion({.learning_rate = lr, .weight_decay = 0.1f});
       }},
      {"adafactor_relative_step", [](Schedule) { return make_adafactor({}); }},
      {"adafactor_lr_momentum_decay",
       [](Schedule lr) {
         return make_adafactor(
             {.learning_rate = lr, .beta1 = 0.9f, .weight_decay = 0.1f});
       }},
      {"lamb", [](Schedule lr) { return make_lamb({.learning_rate = lr}); }},
      {"lamb_no_decay",
       [](Schedule lr) {
         return make_lamb({.learning_rate = lr, .weight_decay = 0.0f});
       }},
      {"novograd",
       [](Schedule lr) { return make_novograd({.learning_rate = lr}); }},
      {"novograd_decay",
       [](Schedule lr) {
         return make_novograd({.learning_rate = lr, .weight_decay = 0.01f});
       }},
  };
}

constexpr int kSteps = 5;

std::vector<mx::array> grads_at(const Tensors& data, int k) {
  std::vector<mx::array> grads;
  for (size_t i = 0; i < kShapes.size(); ++i) {
    grads.push_back(from_doubles(data.grads[k][i], kShapes[i]));
  }
  return grads;
}

class MoreOptimizers : public ::testing::TestWithParam<Case> {};

TEST_P(MoreOptimizers, CompiledUpdateEqualsEager) {
  auto opt =
      GetParam().make(with_warmup(cosine_decay(1e-2f, 10, 1e-3f), 2, 0.0f));
  auto data = make_tensors(kSteps, 99);
  const size_t n = kShapes.size();
  std::vector<mx::array> params;
  for (size_t i = 0; i < n; ++i) {
    params.push_back(from_doubles(data.params[i], kShapes[i]));
  }
  const size_t ns = opt->init_state(params).size();

  // Inputs: [params (n), grads (n), state (ns), step]; outputs: [params,
  // state]. Everything flows through inputs, nothing is captured.
  const Optimizer* o = opt.get();
  auto compiled = mx::compile([o, n, ns](const std::vector<mx::array>& in) {
    std::vector<mx::array> p(in.begin(), in.begin() + n);
    std::vector<mx::array> g(in.begin() + n, in.begin() + 2 * n);
    std::vector<mx::array> s(in.begin() + 2 * n, in.begin() + 2 * n + ns);
    auto [np, nst] = o->update(p, g, s, in.back());
    np.insert(np.end(), nst.begin(), nst.end());
    return np;
  });

  auto eager_p = params, compiled_p = params;
  auto eager_s = opt->init_state(params), compiled_s = opt->init_state(params);
  for (int k = 0; k < kSteps; ++k) {
    auto grads = grads_at(data, k);
    std::tie(eager_p, eager_s) =
        opt->update(eager_p, grads, eager_s, step_array(k));
    std::vector<mx::array> in = compiled_p;
    in.insert(in.end(), grads.begin(), grads.end());
    in.insert(in.end(), compiled_s.begin(), compiled_s.end());
    in.push_back(step_array(k));
    auto out = compiled(in);
    compiled_p.assign(out.begin(), out.begin() + n);
    compiled_s.assign(out.begin() + n, out.end());
    mx::eval(eager_p);
    mx::eval(eager_s);
    mx::eval(compiled_p);
    mx::eval(compiled_s);
  }
  for (size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(mx::array_equal(eager_p[i], compiled_p[i]).item<bool>())
        << "param " << i;
  }
  for (size_t i = 0; i < ns; ++i) {
    EXPECT_TRUE(mx::array_equal(eager_s[i], compiled_s[i]).item<bool>())
        << "state " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(All,
                         MoreOptimizers,
                         ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

TEST(Adafactor, StateFactorsMatricesOnly) {
  auto opt = make_adafactor({.beta1 = 0.9f});
  auto state = opt->init_state({mx::ones({4, 6}), mx::ones({7})});
  ASSERT_EQ(state.size(), 8u);
  EXPECT_EQ(state[0].shape(), (mx::Shape{4})); // v_row
  EXPECT_EQ(state[1].shape(), (mx::Shape{6})); // v_col
  EXPECT_EQ(state[2].shape(), (mx::Shape{}));  // unused v
  EXPECT_EQ(state[3].shape(), (mx::Shape{4, 6}));
  EXPECT_EQ(state[4].shape(), (mx::Shape{}));
  EXPECT_EQ(state[6].shape(), (mx::Shape{7}));
  EXPECT_EQ(opt->state_names({"a"}),
            (std::vector<std::string>{"a.v_row", "a.v_col", "a.v", "a.m"}));
  auto batched = make_adafactor({})->init_state({mx::ones({2, 3, 5})});
  EXPECT_EQ(batched[0].shape(), (mx::Shape{2, 3}));
  EXPECT_EQ(batched[1].shape(), (mx::Shape{2, 5}));
}

TEST(NovoGrad, SecondMomentIsOneScalarPerTensor) {
  auto opt = make_novograd({.learning_rate = constant_schedule(1e-3f)});
  auto state = opt->init_state({mx::ones({4, 6})});
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[1].shape(), (mx::Shape{}));
  EXPECT_EQ(state[1].dtype(), mx::float32);
}

TEST(MoreOptimizers, KeepBfloat16Parameters) {
  // Large enough that one step moves 1.0 by more than bf16's spacing there.
  auto lr = constant_schedule(5e-2f);
  std::vector<std::unique_ptr<Optimizer>> all;
  all.push_back(make_sgd({.learning_rate = lr, .momentum = 0.9f}));
  all.push_back(make_lion({.learning_rate = lr}));
  all.push_back(make_adafactor({.learning_rate = lr, .beta1 = 0.5f}));
  all.push_back(make_lamb({.learning_rate = lr}));
  all.push_back(make_novograd({.learning_rate = lr}));
  auto p = mx::astype(mx::ones({4, 2}), mx::bfloat16);
  auto g = mx::astype(mx::full({4, 2}, 0.5f), mx::bfloat16);
  for (const auto& opt : all) {
    auto [np, ns] = opt->update({p}, {g}, opt->init_state({p}), step_array(0));
    EXPECT_EQ(np[0].dtype(), mx::bfloat16) << opt->name();
    for (double x : to_doubles(np[0])) {
      EXPECT_TRUE(std::isfinite(x)) << opt->name();
      EXPECT_LT(x, 1.0) << opt->name();
    }
  }
}

TEST(MoreOptimizers, MismatchedUpdateInputsAreInternal) {
  auto opt = make_lion({.learning_rate = constant_schedule(1e-3f)});
  auto p = mx::ones({3});
  EXPECT_MLXT_ERROR(
      opt->update({p}, {p}, {}, step_array(0)), internal, "state arrays");
  EXPECT_MLXT_ERROR(
      opt->update({p}, {mx::ones({4})}, opt->init_state({p}), step_array(0)),
      internal,
      "shape");
}

TEST(MoreOptimizers, InvalidOptionsNameTheOption) {
  auto lr = constant_schedule(1e-3f);
  EXPECT_MLXT_ERROR(make_sgd({}), invalid_config, "learning_rate");
  EXPECT_MLXT_ERROR(make_sgd({.learning_rate = lr, .nesterov = true}),
                    invalid_config,
                    "nesterov needs momentum > 0");
  EXPECT_MLXT_ERROR(
      make_sgd({.learning_rate = lr, .momentum = 0.9f, .dampening = 2.0f}),
      invalid_config,
      "dampening");
  EXPECT_MLXT_ERROR(
      make_lion({.learning_rate = lr, .beta2 = 1.0f}), invalid_config, "beta2");
  EXPECT_MLXT_ERROR(
      make_adafactor({.decay_rate = 0.5f}), invalid_config, "decay_rate");
  EXPECT_MLXT_ERROR(make_adafactor({.learning_rate = lr, .warmup_init = true}),
                    invalid_config,
                    "warmup_init");
  EXPECT_MLXT_ERROR(
      make_lamb({.learning_rate = lr, .eps = -1.0f}), invalid_config, "eps");
  EXPECT_MLXT_ERROR(make_novograd({.learning_rate = lr, .weight_decay = -1}),
                    invalid_config,
                    "weight_decay");
}

// ---------------------------------------------------------------------------
// Schedules

void expect_schedule(const Schedule& s,
                     long step,
                     double expected,
                     const std::string& what,
                     double scale = 0.0) {
  expect_close(schedule_value(s, step),
               expected,
               1e-6,
               scale,
               what + " at step " + std::to_string(step));
}

TEST(Schedule, ExponentialDecay) {
  auto s = exponential_decay(0.1f, 0.9f);
  for (long k : {0L, 1L, 2L, 5L, 37L}) {
    expect_schedule(s, k, 0.1 * std::pow(0.9, k), "exponential");
  }
}

TEST(Schedule, StepDecay) {
  auto s = step_decay(0.1f, 0.9f, 10);
  for (long k : {0L, 1L, 9L, 10L, 11L, 19L, 20L, 95L}) {
    expect_schedule(s, k, 0.1 * std::pow(0.9, k / 10), "step");
  }
  expect_schedule(s, 21, 0.081, "step (MLX's docstring)");
}

TEST(Schedule, PolynomialDecay) {
  const double init = 1e-3, end = 1e-5;
  for (double power : {1.0, 2.0, 0.5}) {
    auto s = polynomial_decay(init, end, 20, float(power));
    for (long k : {0L, 1L, 7L, 19L, 20L, 50L}) {
      const double frac = 1.0 - std::min<double>(k, 20) / 20.0;
      expect_schedule(s,
                      k,
                      double(float(end)) +
                          (init - double(float(end))) * std::pow(frac, power),
                      "polynomial p=" + std::to_string(power),
                      init);
    }
  }
  // power 1 is linear_schedule.
  auto lin = linear_schedule(1.0f, 0.5f, 8);
  auto poly = polynomial_decay(1.0f, 0.5f, 8, 1.0f);
  for (long k : {0L, 3L, 8L, 12L}) {
    expect_close(
        schedule_value(poly, k), schedule_value(lin, k), 1e-6, 1.0, "p=1");
  }
}

TEST(Schedule, NewSchedulesTraceInsideCompile) {
  for (const auto& s : {exponential_decay(1e-3f, 0.95f),
                        step_decay(1e-3f, 0.5f, 3),
                        polynomial_decay(1e-3f, 0.0f, 10, 2.0f)}) {
    auto compiled = mx::compile(
        [s](const std::vector<mx::array>& in) -> std::vector<mx::array> {
          return {s(in[0])};
        });
    for (uint64_t k : {0u, 2u, 3u, 7u, 12u}) {
      EXPECT_EQ(compiled({step_array(k)})[0].item<float>(),
                schedule_value(s, k))
          << k;
    }
  }
}

TEST(Schedule, NewSchedulesRejectBadArguments) {
  EXPECT_MLXT_ERROR(step_decay(1, 0.5f, 0), invalid_config, "step_size");
  EXPECT_MLXT_ERROR(exponential_decay(NAN, 0.5f), invalid_config, "init");
  EXPECT_MLXT_ERROR(polynomial_decay(1, 0, 0), invalid_config, "steps");
  EXPECT_MLXT_ERROR(polynomial_decay(1, 0, 5, 0.0f), invalid_config, "power");
}

// ---------------------------------------------------------------------------
// Catalogue

using nlohmann::json;

// One update of the test tensors; the new parameters, evaluated.
std::vector<mx::array> one_update(const Optimizer& opt) {
  auto data = make_tensors(1, 5);
  std::vector<mx::array> params;
  for (size_t i = 0; i < kShapes.size(); ++i) {
    params.push_back(from_doubles(data.params[i], kShapes[i]));
  }
  auto [np, ns] = opt.update(
      params, grads_at(data, 0), opt.init_state(params), step_array(0));
  mx::eval(np);
  return np;
}

void expect_same_update(const Optimizer& a, const Optimizer& b) {
  auto pa = one_update(a), pb = one_update(b);
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(mx::array_equal(pa[i], pb[i]).item<bool>())
        << a.name() << " param " << i;
  }
}

TEST(Catalogue, EveryOptimizerBuildsWithDefaults) {
  for (const auto& spec : optimizer_specs()) {
    auto opt = make_optimizer(spec.name, nullptr, constant_schedule(1e-3f));
    EXPECT_EQ(opt->name(), spec.name);
    for (const auto& p : one_update(*opt)) {
      EXPECT_TRUE(mx::all(mx::isfinite(p)).item<bool>()) << spec.name;
    }
  }
}

TEST(Catalogue, BuildsWhatTheFactoriesBuild) {
  auto lr = linear_schedule(1e-2f, 1e-3f, 3);
  expect_same_update(
      *make_optimizer("sgd", {{"momentum", 0.9}, {"nesterov", true}}, lr),
      *make_sgd({.learning_rate = lr, .momentum = 0.9f, .nesterov = true}));
  expect_same_update(
      *make_optimizer("lion", {{"beta2", 0.95}, {"weight_decay", 0.1}}, lr),
      *make_lion({.learning_rate = lr, .beta2 = 0.95f, .weight_decay = 0.1f}));
  // relative_step drops the schedule: MLX's default Adafactor.
  expect_same_update(
      *make_optimizer("adafactor", {{"relative_step", true}}, lr),
      *make_adafactor({}));
  expect_same_update(*make_optimizer("adafactor", {{"beta1", 0.9}}, lr),
                     *make_adafactor({.learning_rate = lr, .beta1 = 0.9f}));
  expect_same_update(*make_optimizer("lamb", {{"eps", 1e-8}}, lr),
                     *make_lamb({.learning_rate = lr, .eps = 1e-8f}));
  expect_same_update(*make_optimizer("novograd", json::object(), lr),
                     *make_novograd({.learning_rate = lr}));
  expect_same_update(
      *make_optimizer("adamw", {{"bias_correction", true}}, lr),
      *make_adamw({.learning_rate = lr, .bias_correction = true}));
}

TEST(Catalogue, SchedulesMatchTheirFunctions) {
  auto poly = make_schedule(
      "polynomial_decay",
      {{"init", 1e-3}, {"end", 1e-5}, {"steps", 10}, {"power", 2}});
  auto step = make_schedule("step_decay",
                            {{"init", 0.1}, {"rate", 0.9}, {"step_size", 3}});
  auto cosine = make_schedule("cosine_decay", {{"init", 1e-3}, {"steps", 8}});
  for (long k : {0L, 2L, 3L, 7L, 12L}) {
    EXPECT_EQ(schedule_value(poly, k),
              schedule_value(polynomial_decay(1e-3f, 1e-5f, 10, 2.0f), k));
    EXPECT_EQ(schedule_value(step, k),
              schedule_value(step_decay(0.1f, 0.9f, 3), k));
    EXPECT_EQ(schedule_value(cosine, k),
              schedule_value(cosine_decay(1e-3f, 8), k));
  }
}

TEST(Catalogue, UnknownOptimizerSuggestsTheNearestName) {
  auto lr = constant_schedule(1e-3f);
  EXPECT_MLXT_ERROR(make_optimizer("lamm", nullptr, lr),
                    invalid_config,
                    "unknown optimizer 'lamm'; did you mean 'lamb'?");
  EXPECT_MLXT_ERROR(make_optimizer("adam_w", nullptr, lr),
                    invalid_config,
                    "did you mean 'adamw'?");
  EXPECT_MLXT_ERROR(make_optimizer("rmsprop", nullptr, lr),
                    invalid_config,
                    "unknown optimizer 'rmsprop'. Allowed: adamw, sgd, lion, "
                    "adafactor, lamb, novograd.");
  EXPECT_MLXT_ERROR(make_schedule("cosine", {{"init", 1.0}}),
                    invalid_config,
                    "unknown schedule 'cosine'");
}

TEST(Catalogue, RejectsOutOfRangeValuesNamingTheKey) {
  auto lr = constant_schedule(1e-3f);
  EXPECT_MLXT_ERROR(make_optimizer("lion", {{"beta1", 1.5}}, lr),
                    invalid_config,
                    "lion.beta1 must be a number in [0, 1), but received 1.5");
  EXPECT_MLXT_ERROR(make_optimizer("adafactor", {{"eps1", 0}}, lr),
                    invalid_config,
                    "adafactor.eps1 must be a number in (0, inf)");
  EXPECT_MLXT_ERROR(
      make_schedule("step_decay",
                    {{"init", 1}, {"rate", 0.5}, {"step_size", 0}}),
      invalid_config,
      "step_decay.step_size must be an integer in [1, ");
  try {
    make_optimizer("sgd", {{"dampening", 2}}, lr);
    ADD_FAILURE() << "expected an error";
  } catch (const mlxt::Error& e) {
    EXPECT_EQ(e.context().key, "dampening");
  }
}

TEST(Catalogue, RejectsWrongTypesAndUnknownKeys) {
  auto lr = constant_schedule(1e-3f);
  EXPECT_MLXT_ERROR(
      make_optimizer("sgd", {{"momentum", "0.9"}}, lr),
      invalid_config,
      "sgd.momentum must be a number in [0, inf), but received string \"0.9\"");
  EXPECT_MLXT_ERROR(make_optimizer("sgd", {{"nesterov", 1}}, lr),
                    invalid_config,
                    "sgd.nesterov must be a boolean, but received integer 1");
  EXPECT_MLXT_ERROR(make_schedule("linear_schedule",
                                  {{"init", 1}, {"end", 0}, {"steps", 2.5}}),
                    invalid_config,
                    "linear_schedule.steps must be an integer");
  EXPECT_MLXT_ERROR(make_optimizer("adamw", {{"weight_decy", 0.1}}, lr),
                    invalid_config,
                    "adamw has no parameter 'weight_decy'; did you mean "
                    "'weight_decay'?");
  EXPECT_MLXT_ERROR(make_optimizer("adamw", json::array({0.9}), lr),
                    invalid_config,
                    "must be a JSON object, but received array");
  EXPECT_MLXT_ERROR(make_schedule("linear_schedule", {{"init", 1}, {"end", 0}}),
                    invalid_config,
                    "linear_schedule.steps is required");
}

TEST(Catalogue, ReportsEveryProblemAtOnce) {
  EXPECT_MLXT_ERROR(
      make_optimizer(
          "lamb", {{"beta1", -1}, {"eps", "x"}}, constant_schedule(1e-3f)),
      invalid_config,
      "lamb.beta1 must be a number in [0, 1), but received -1. lamb.eps must");
}

TEST(Catalogue, CrossParameterRulesStillApply) {
  EXPECT_MLXT_ERROR(
      make_optimizer("sgd", {{"nesterov", true}}, constant_schedule(1e-3f)),
      invalid_config,
      "nesterov needs momentum > 0");
  EXPECT_MLXT_ERROR(make_optimizer("sgd", nullptr, Schedule{}),
                    invalid_config,
                    "learning_rate is empty");
}

TEST(Catalogue, JsonDescribesEveryRow) {
  auto catalogue = optimizer_catalogue_json();
  ASSERT_EQ(catalogue["optimizers"].size(), optimizer_specs().size());
  ASSERT_EQ(catalogue["schedules"].size(), schedule_specs().size());
  std::vector<std::string> names;
  for (const auto& o : catalogue["optimizers"]) {
    names.push_back(o["name"]);
    EXPECT_FALSE(o["paper"].get<std::string>().empty()) << o["name"];
    EXPECT_FALSE(o["formula"].get<std::string>().empty()) << o["name"];
    for (const auto& p : o["parameters"]) {
      EXPECT_TRUE(p.contains("type") && p.contains("default")) << p.dump();
      EXPECT_FALSE(p["required"].get<bool>()) << p.dump();
    }
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{
                "adamw", "sgd", "lion", "adafactor", "lamb", "novograd"}));
  const auto& lion_beta1 = catalogue["optimizers"][2]["parameters"][0];
  EXPECT_EQ(lion_beta1["name"], "beta1");
  EXPECT_EQ(lion_beta1["default"].get<double>(), 0.9);
  EXPECT_EQ(lion_beta1["min"].get<double>(), 0.0);
  EXPECT_EQ(lion_beta1["max"].get<double>(), 1.0);
  EXPECT_FALSE(lion_beta1["max_inclusive"].get<bool>());
  // Unbounded ends are null (JSON has no infinity).
  const auto& sgd_momentum = catalogue["optimizers"][1]["parameters"][0];
  EXPECT_TRUE(sgd_momentum["max"].is_null());
}

} // namespace
