// Learning-rate schedules as MLX ops on the step, following
// mlx.optimizers.schedulers and mlx-lm's tuner/utils.py build_schedule.
#include "mlxt/optim/schedule.h"

#include <cmath>
#include <numbers>
#include <string>
#include <utility>

#include "mlxt/core/error.h"
#include "mlxt/optim/decimal.h"

namespace mlxt::optim {

namespace {

// The step arrives as uint64 (MLX's optimizer state) or int; float32 keeps
// the arithmetic below (step - boundary, step / steps) signed and exact up to
// 2^24 steps.
mx::array step_as_float(const mx::array& step) {
  return mx::astype(step, mx::float32);
}

void check_finite(const char* op, const char* arg, float value) {
  if (!std::isfinite(value)) {
    fail(ErrorCode::invalid_config,
         std::string("[") + op + "] " + arg + " must be finite, but received " +
             std::to_string(value) + ".");
  }
}

void check_positive_steps(const char* op, const char* arg, int steps) {
  if (steps < 1) {
    fail(ErrorCode::invalid_config,
         std::string("[") + op + "] " + arg +
             " must be greater than 0, but received " + std::to_string(steps) +
             ".");
  }
}

void check_schedule(const char* op, const char* arg, const Schedule& s) {
  if (!s) {
    fail(ErrorCode::invalid_config,
         std::string("[") + op + "] " + arg + " is empty; pass a schedule.");
  }
}

} // namespace

Schedule constant_schedule(float value) {
  check_finite("constant_schedule", "value", value);
  return [value](const mx::array& step) {
    // Broadcast against the step so the result is a scalar array tied to it.
    return mx::full(step.shape(), value, mx::float32);
  };
}

Schedule linear_schedule(float init, float end, int steps) {
  check_finite("linear_schedule", "init", init);
  check_finite("linear_schedule", "end", end);
  check_positive_steps("linear_schedule", "steps", steps);
  // Computed in double, then rounded once, as MLX does with Python floats.
  const float slope = static_cast<float>(
      (detail::as_decimal(end) - detail::as_decimal(init)) / steps);
  return [init, slope, steps](const mx::array& step) {
    auto s =
        mx::minimum(step_as_float(step), mx::array(static_cast<float>(steps)));
    return mx::add(mx::multiply(s, mx::array(slope)), mx::array(init));
  };
}

Schedule cosine_decay(float init, int steps, float end) {
  check_finite("cosine_decay", "init", init);
  check_finite("cosine_decay", "end", end);
  check_positive_steps("cosine_decay", "steps", steps);
  const float angle_per_step =
      static_cast<float>(std::numbers::pi / static_cast<double>(steps));
  const float range =
      static_cast<float>(detail::as_decimal(init) - detail::as_decimal(end));
  return [end, steps, angle_per_step, range](const mx::array& step) {
    auto s =
        mx::minimum(step_as_float(step), mx::array(static_cast<float>(steps)));
    auto decay = mx::multiply(
        mx::array(0.5f),
        mx::add(mx::array(1.0f),
                mx::cos(mx::multiply(mx::array(angle_per_step), s))));
    return mx::add(mx::array(end), mx::multiply(decay, mx::array(range)));
  };
}

Schedule exponential_decay(float init, float rate) {
  check_finite("exponential_decay", "init", init);
  check_finite("exponential_decay", "rate", rate);
  return [init, rate](const mx::array& step) {
    return mx::multiply(mx::array(init),
                        mx::power(mx::array(rate), step_as_float(step)));
  };
}

Schedule step_decay(float init, float rate, int step_size) {
  check_finite("step_decay", "init", init);
  check_finite("step_decay", "rate", rate);
  check_positive_steps("step_decay", "step_size", step_size);
  return [init, rate, step_size](const mx::array& step) {
    // Integer division on the integer step, as MLX's step // step_size.
    auto k = mx::floor_divide(mx::astype(step, mx::int64),
                              mx::array(static_cast<int64_t>(step_size)));
    return mx::multiply(mx::array(init),
                        mx::power(mx::array(rate), step_as_float(k)));
  };
}

Schedule polynomial_decay(float init, float end, int steps, float power) {
  check_finite("polynomial_decay", "init", init);
  check_finite("polynomial_decay", "end", end);
  check_positive_steps("polynomial_decay", "steps", steps);
  if (!(std::isfinite(power) && power > 0.0f)) {
    fail(ErrorCode::invalid_config,
         "[polynomial_decay] power must be finite and > 0, but received " +
             std::to_string(power) + ".");
  }
  const float range =
      static_cast<float>(detail::as_decimal(init) - detail::as_decimal(end));
  return [end, steps, power, range](const mx::array& step) {
    auto s =
        mx::minimum(step_as_float(step), mx::array(static_cast<float>(steps)));
    auto remaining = mx::subtract(
        mx::array(1.0f), mx::divide(s, mx::array(static_cast<float>(steps))));
    return mx::add(
        mx::array(end),
        mx::multiply(mx::array(range), mx::power(remaining, mx::array(power))));
  };
}

Schedule join_schedules(Schedule first, Schedule second, int boundary) {
  check_schedule("join_schedules", "first", first);
  check_schedule("join_schedules", "second", second);
  if (boundary < 0) {
    fail(ErrorCode::invalid_config,
         "[join_schedules] boundary must be >= 0, but received " +
             std::to_string(boundary) + ".");
  }
  return [first = std::move(first), second = std::move(second), boundary](
             const mx::array& step) {
    auto s = step_as_float(step);
    auto b = mx::array(static_cast<float>(boundary));
    // Both branches are traced; `where` picks one, as in MLX.
    return mx::where(mx::less(s, b),
                     mx::astype(first(s), mx::float32),
                     mx::astype(second(mx::subtract(s, b)), mx::float32));
  };
}

Schedule with_warmup(Schedule schedule, int warmup, float warmup_init) {
  check_schedule("with_warmup", "schedule", schedule);
  if (warmup < 0) {
    fail(ErrorCode::invalid_config,
         "[with_warmup] warmup must be >= 0, but received " +
             std::to_string(warmup) + ".");
  }
  check_finite("with_warmup", "warmup_init", warmup_init);
  if (warmup == 0) {
    return schedule;
  }
  // mlx-lm ramps to the schedule's initial value; for MLX's schedules that is
  // their value at step 0, which we compute once here on the host.
  const float target = schedule_value(schedule, 0);
  // Joined at warmup + 1 (mlx-lm): steps warmup and warmup + 1 both give
  // `target`, the end of the ramp and then schedule(0).
  return join_schedules(linear_schedule(warmup_init, target, warmup),
                        std::move(schedule),
                        warmup + 1);
}

float schedule_value(const Schedule& schedule, long step) {
  check_schedule("schedule_value", "schedule", schedule);
  auto value = mx::astype(
      schedule(mx::array(static_cast<int64_t>(step), mx::int64)), mx::float32);
  return value.item<float>();
}

} // namespace mlxt::optim
