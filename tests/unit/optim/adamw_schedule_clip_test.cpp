// AdamW's compile parity, dtype and state layout; schedules and gradient
// clipping against closed forms; argument validation. AdamW's values after
// k steps are checked against the NumPy and optax references in
// tests/parity/optim_parity_test.cpp.
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <vector>

#include "mlxt/optim/decimal.h"
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

// linear_schedule(init, end, steps) in closed form.
double ref_linear(double init, double end, int steps, double step) {
  return init + std::min(step, double(steps)) * (end - init) / steps;
}

double ref_cosine(double init, int steps, double end, double step) {
  const double s = std::min(step, double(steps));
  return end +
         0.5 * (1.0 + std::cos(std::numbers::pi * s / steps)) * (init - end);
}

struct Tensors {
  std::vector<mx::Shape> shapes{{3, 4}, {7}, {2, 1, 5}};
  std::vector<std::vector<double>> params;
  std::vector<std::vector<std::vector<double>>> grads; // [step][param]
};

// Random normal parameters and per-step gradients from a fixed seed,
// rounded to float so MLX and the reference see the same inputs.
Tensors make_tensors(int steps, unsigned seed) {
  Tensors t;
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
  for (const auto& s : t.shapes) {
    t.params.push_back(fill(s, 1.0f));
  }
  for (int k = 0; k < steps; ++k) {
    t.grads.emplace_back();
    for (const auto& s : t.shapes) {
      t.grads.back().push_back(fill(s, 0.5f));
    }
  }
  return t;
}

TEST(AdamW, CompiledUpdateEqualsEager) {
  constexpr int kSteps = 5;
  auto opt = make_adamw(
      {.learning_rate = with_warmup(cosine_decay(1e-2f, 10, 1e-3f), 2, 0.0f),
       .weight_decay = 0.05f,
       .bias_correction = true});
  auto data = make_tensors(kSteps, 99);
  const size_t n = data.shapes.size();

  std::vector<mx::array> params;
  for (size_t i = 0; i < n; ++i) {
    params.push_back(from_doubles(data.params[i], data.shapes[i]));
  }

  // Inputs: [params (n), grads (n), state (2n), step]; outputs: [params,
  // state]. Everything flows through inputs, nothing is captured.
  const Optimizer* o = opt.get();
  auto step_fn = [o, n](const std::vector<mx::array>& in) {
    std::vector<mx::array> p(in.begin(), in.begin() + n);
    std::vector<mx::array> g(in.begin() + n, in.begin() + 2 * n);
    std::vector<mx::array> s(in.begin() + 2 * n, in.begin() + 4 * n);
    auto [np, ns] = o->update(p, g, s, in.back());
    np.insert(np.end(), ns.begin(), ns.end());
    return np;
  };
  auto compiled = mx::compile(step_fn);

  auto eager_p = params, compiled_p = params;
  auto eager_s = opt->init_state(params), compiled_s = opt->init_state(params);
  for (int k = 0; k < kSteps; ++k) {
    std::vector<mx::array> grads;
    for (size_t i = 0; i < n; ++i) {
      grads.push_back(from_doubles(data.grads[k][i], data.shapes[i]));
    }
    std::tie(eager_p, eager_s) =
        opt->update(eager_p, grads, eager_s, step_array(k));

    std::vector<mx::array> in = compiled_p;
    in.insert(in.end(), grads.begin(), grads.end());
    in.insert(in.end(), compiled_s.begin(), compiled_s.end());
    in.push_back(step_array(k));
    auto out = compiled(in);
    compiled_p.assign(out.begin(), out.begin() + n);
    compiled_s.assign(out.begin() + n, out.end());
    std::vector<mx::array> all = eager_p;
    for (const auto* list : {&eager_s, &compiled_p, &compiled_s}) {
      all.insert(all.end(), list->begin(), list->end());
    }
    mx::eval(all);
  }
  for (size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(mx::array_equal(eager_p[i], compiled_p[i]).item<bool>())
        << "param " << i;
    EXPECT_TRUE(mx::array_equal(eager_s[2 * i], compiled_s[2 * i]).item<bool>())
        << "m " << i;
    EXPECT_TRUE(
        mx::array_equal(eager_s[2 * i + 1], compiled_s[2 * i + 1]).item<bool>())
        << "v " << i;
  }
}

TEST(AdamW, HyperParametersKeepTheirDecimalValue) {
  // MLX computes 1 - b1 from the double 0.9; widening 0.9f would not.
  EXPECT_EQ(mlxt::optim::detail::as_decimal(0.9f), 0.9);
  EXPECT_EQ(mlxt::optim::detail::as_decimal(0.999f), 0.999);
  EXPECT_EQ(mlxt::optim::detail::as_decimal(1e-8f), 1e-8);
  EXPECT_EQ(mlxt::optim::detail::as_decimal(0.0f), 0.0);
}

TEST(AdamW, KeepsParameterDtype) {
  auto opt = make_adamw({.learning_rate = constant_schedule(1e-3f)});
  auto p = mx::astype(mx::ones({4, 2}), mx::bfloat16);
  auto g = mx::astype(mx::full({4, 2}, 0.5f), mx::bfloat16);
  auto state = opt->init_state({p});
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0].dtype(), mx::bfloat16);
  EXPECT_EQ(state[1].dtype(), mx::bfloat16);
  auto [np, ns] = opt->update({p}, {g}, state, step_array(0));
  EXPECT_EQ(np[0].dtype(), mx::bfloat16);
  EXPECT_EQ(ns[0].dtype(), mx::bfloat16);
  EXPECT_EQ(ns[1].dtype(), mx::bfloat16);
  // One step from m = v = 0 moves w by about lr * sign(g) / sqrt(1 - b2)
  // * (1 - b1); just check it moved down and stayed finite.
  auto w = to_doubles(np[0]);
  for (double x : w) {
    EXPECT_LT(x, 1.0);
    EXPECT_TRUE(std::isfinite(x));
  }
}

TEST(AdamW, StateNamesFollowLayout) {
  auto opt = make_adamw({.learning_rate = constant_schedule(1e-3f)});
  auto names = opt->state_names({"a.lora_a", "b.weight"});
  EXPECT_EQ(names,
            (std::vector<std::string>{
                "a.lora_a.m", "a.lora_a.v", "b.weight.m", "b.weight.v"}));
  auto state = opt->init_state({mx::ones({2, 3}), mx::ones({5})});
  ASSERT_EQ(state.size(), 4u);
  EXPECT_EQ(state[0].shape(), (mx::Shape{2, 3}));
  EXPECT_EQ(state[3].shape(), (mx::Shape{5}));
  EXPECT_EQ(mx::sum(mx::abs(state[0])).item<float>(), 0.0f);
}

// ---------------------------------------------------------------------------
// Schedules

// Relative 1e-6 of the value, or of `scale` (the schedule's peak) where the
// value decays towards 0 and float32 cancellation (1 + cos) dominates.
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

TEST(Schedule, Constant) {
  auto s = constant_schedule(3e-4f);
  for (long k : {0L, 1L, 1000L}) {
    expect_schedule(s, k, 3e-4, "constant");
  }
}

TEST(Schedule, Linear) {
  const double init = 1e-3, end = 1e-4;
  auto s = linear_schedule(init, end, 8);
  for (long k : {0L, 1L, 4L, 7L, 8L, 9L, 100L}) {
    expect_schedule(s, k, ref_linear(init, end, 8, k), "linear");
  }
  expect_schedule(s, 0, init, "linear");
  expect_schedule(s, 100, end, "linear");
}

TEST(Schedule, CosineToZeroAndToEnd) {
  auto to_zero = cosine_decay(2e-3f, 100);
  auto to_end = cosine_decay(2e-3f, 100, 1e-4f);
  for (long k : {0L, 1L, 25L, 50L, 99L, 100L, 250L}) {
    expect_schedule(to_zero, k, ref_cosine(2e-3, 100, 0.0, k), "cosine", 2e-3);
    expect_schedule(
        to_end, k, ref_cosine(2e-3, 100, double(1e-4f), k), "cosine/end", 2e-3);
  }
  expect_schedule(to_zero, 50, 1e-3, "cosine midpoint");
  expect_close(schedule_value(to_zero, 100), 0.0, 1e-6, 2e-3, "cosine end");
}

TEST(Schedule, JoinSwitchesAtBoundary) {
  auto s = join_schedules(
      constant_schedule(1.0f), linear_schedule(2.0f, 0.0f, 4), 3);
  expect_schedule(s, 0, 1.0, "join");
  expect_schedule(s, 2, 1.0, "join");
  expect_schedule(s, 3, 2.0, "join"); // second(0)
  expect_schedule(s, 5, 1.0, "join"); // second(2)
  expect_close(schedule_value(s, 10), 0.0, 0.0, 1.0, "join end");
}

TEST(Schedule, WarmupFollowsMlxLm) {
  const double init = 1e-3, end = 1e-4, warmup_init = 1e-6;
  const int warmup = 10, decay = 100;
  auto s = with_warmup(cosine_decay(init, decay, end), warmup, warmup_init);
  auto expected = [&](long k) {
    // join([linear(warmup_init -> init, warmup), cosine], [warmup + 1])
    if (k < warmup + 1) {
      return ref_linear(warmup_init, init, warmup, k);
    }
    return ref_cosine(init, decay, double(float(end)), k - (warmup + 1));
  };
  expect_schedule(s, 0, warmup_init, "warmup");
  expect_schedule(s, warmup, init, "warmup");
  expect_schedule(s, warmup + 1, init, "warmup");
  for (long k : {0L, 1L, 5L, 9L, 10L, 11L, 12L, 50L, 111L, 500L}) {
    expect_schedule(s, k, expected(k), "warmup", init);
  }
}

TEST(Schedule, ZeroWarmupIsTheSchedule) {
  auto base = linear_schedule(1.0f, 0.5f, 10);
  auto s = with_warmup(base, 0, 0.0f);
  for (long k : {0L, 1L, 5L, 10L, 20L}) {
    EXPECT_EQ(schedule_value(s, k), schedule_value(base, k)) << k;
  }
}

TEST(Schedule, TracesInsideCompileWithUint64Steps) {
  auto s = with_warmup(cosine_decay(1e-3f, 50, 1e-5f), 5, 0.0f);
  auto compiled = mx::compile(
      [s](const std::vector<mx::array>& in) -> std::vector<mx::array> {
        return {s(in[0])};
      });
  for (uint64_t k : {0u, 3u, 5u, 6u, 30u, 80u}) {
    auto got = compiled({step_array(k)})[0];
    EXPECT_EQ(got.dtype(), mx::float32);
    EXPECT_EQ(got.item<float>(), schedule_value(s, k)) << k;
  }
}

// ---------------------------------------------------------------------------
// Clipping

TEST(Clip, ClipsAboveMaxNorm) {
  // Norm sqrt(3^2 + 4^2 + 12^2) = 13.
  std::vector<mx::array> grads{mx::array({3.0f, 4.0f}),
                               mx::array({0.0f, 12.0f}, {1, 2})};
  auto [clipped, norm] = clip_grad_norm(grads, 1.0f);
  expect_close(norm.item<float>(), 13.0, 1e-6, 1.0, "norm");
  const double scale = 1.0 / (13.0 + 1e-6);
  auto a = to_doubles(clipped[0]);
  auto b = to_doubles(clipped[1]);
  expect_close(a[0], 3.0 * scale, 1e-6, 1e-6, "a0");
  expect_close(a[1], 4.0 * scale, 1e-6, 1e-6, "a1");
  expect_close(b[0], 0.0, 0.0, 1.0, "b0");
  expect_close(b[1], 12.0 * scale, 1e-6, 1e-6, "b1");
  EXPECT_EQ(clipped[1].shape(), (mx::Shape{1, 2}));
  expect_close(
      global_norm(clipped).item<float>(), 1.0, 1e-6, 1.0, "clipped norm");
}

TEST(Clip, LeavesSmallGradientsUnchanged) {
  auto data = make_tensors(1, 7);
  std::vector<mx::array> grads;
  double sum_sq = 0.0;
  for (size_t i = 0; i < data.shapes.size(); ++i) {
    grads.push_back(from_doubles(data.grads[0][i], data.shapes[i]));
    for (double g : data.grads[0][i]) {
      sum_sq += g * g;
    }
  }
  const double norm = std::sqrt(sum_sq);
  auto [clipped, got_norm] = clip_grad_norm(grads, float(norm * 2.0));
  expect_close(got_norm.item<float>(), norm, 1e-6, 1.0, "norm");
  expect_close(global_norm(grads).item<float>(), norm, 1e-6, 1.0, "global");
  for (size_t i = 0; i < grads.size(); ++i) {
    EXPECT_TRUE(mx::array_equal(clipped[i], grads[i]).item<bool>()) << i;
  }

  // The same gradients clipped to half their norm are halved.
  auto [halved, n2] = clip_grad_norm(grads, float(norm / 2.0));
  const double scale = (norm / 2.0) / (norm + 1e-6);
  for (size_t i = 0; i < grads.size(); ++i) {
    auto got = to_doubles(halved[i]);
    for (size_t j = 0; j < got.size(); ++j) {
      expect_close(got[j], data.grads[0][i][j] * scale, 1e-6, 1e-3, "halved");
    }
  }
}

TEST(Clip, KeepsDtypeAndSumsInFloat32) {
  auto g = mx::astype(mx::full({1000}, 300.0f), mx::float16);
  // 1000 * 300^2 = 9e7 overflows fp16 (max 65504); the norm must not.
  auto [clipped, norm] = clip_grad_norm({g}, 1.0f);
  expect_close(norm.item<float>(), 300.0 * std::sqrt(1000.0), 1e-6, 1.0, "n");
  EXPECT_EQ(norm.dtype(), mx::float32);
  EXPECT_EQ(clipped[0].dtype(), mx::float16);
}

// ---------------------------------------------------------------------------
// Validation

TEST(OptimErrors, InvalidSchedulesNameTheArgument) {
  EXPECT_MLXT_ERROR(linear_schedule(1, 0, 0), invalid_config, "steps");
  EXPECT_MLXT_ERROR(cosine_decay(1, -3), invalid_config, "steps");
  EXPECT_MLXT_ERROR(constant_schedule(NAN), invalid_config, "value");
  EXPECT_MLXT_ERROR(
      join_schedules(constant_schedule(1), constant_schedule(2), -1),
      invalid_config,
      "boundary");
  EXPECT_MLXT_ERROR(join_schedules(Schedule{}, constant_schedule(2), 1),
                    invalid_config,
                    "first");
  EXPECT_MLXT_ERROR(
      with_warmup(constant_schedule(1), -1, 0), invalid_config, "warmup");
  EXPECT_MLXT_ERROR(with_warmup(Schedule{}, 5, 0), invalid_config, "schedule");
}

TEST(OptimErrors, InvalidAdamWOptionsNameTheOption) {
  auto lr = constant_schedule(1e-3f);
  EXPECT_MLXT_ERROR(make_adamw({}), invalid_config, "learning_rate");
  EXPECT_MLXT_ERROR(make_adamw({.learning_rate = lr, .beta1 = 1.0f}),
                    invalid_config,
                    "beta1");
  EXPECT_MLXT_ERROR(make_adamw({.learning_rate = lr, .beta2 = -0.1f}),
                    invalid_config,
                    "beta2");
  EXPECT_MLXT_ERROR(
      make_adamw({.learning_rate = lr, .eps = -1.0f}), invalid_config, "eps");
  EXPECT_MLXT_ERROR(make_adamw({.learning_rate = lr, .weight_decay = -0.1f}),
                    invalid_config,
                    "weight_decay");
}

TEST(OptimErrors, ClipRejectsNegativeMaxNorm) {
  EXPECT_MLXT_ERROR(
      clip_grad_norm({mx::ones({2})}, -1.0f), invalid_config, "max_norm");
}

TEST(OptimErrors, MismatchedUpdateInputsAreInternal) {
  auto opt = make_adamw({.learning_rate = constant_schedule(1e-3f)});
  auto p = mx::ones({3});
  EXPECT_MLXT_ERROR(
      opt->update({p}, {p}, {}, step_array(0)), internal, "state arrays");
  EXPECT_MLXT_ERROR(
      opt->update({p}, {mx::ones({4})}, opt->init_state({p}), step_array(0)),
      internal,
      "shape");
}

} // namespace
