// Internal to optim: the small pieces every optimizer's formula shares
// (weakly typed scalars, the step and learning-rate conventions, option
// checks).
#pragma once

#include <cmath>
#include <string>

#include <mlx/mlx.h>

#include "mlxt/core/error.h"
#include "mlxt/optim/schedule.h"

namespace mlxt::optim::detail {

namespace mx = mlx::core;

//! A scalar in `like`'s dtype: MLX's Python scalars are weakly typed, so
//! `b1 * m` keeps m's dtype (bf16 stays bf16).
inline mx::array scalar(double value, const mx::array& like) {
  return mx::array(static_cast<float>(value), like.dtype());
}

//! The step as float32 plus one: MLX's t after its increment.
inline mx::array incremented_step(const mx::array& step) {
  return mx::add(mx::astype(step, mx::float32), mx::array(1.0f));
}

//! The learning rate for this update, () float32: MLX evaluates the schedule
//! at the step before incrementing it.
inline mx::array learning_rate_at(const Schedule& schedule,
                                  const mx::array& step) {
  return mx::astype(schedule(step), mx::float32);
}

//! Throws invalid_config "[op] <what>, but received <value>." unless `ok`.
inline void
check_option(const char* op, bool ok, const std::string& what, float value) {
  if (!ok) {
    fail(ErrorCode::invalid_config,
         std::string("[") + op + "] " + what + ", but received " +
             std::to_string(value) + ".");
  }
}

//! A decay coefficient: `name` must be in [0, 1).
inline void check_beta(const char* op, const char* name, float value) {
  check_option(op,
               value >= 0.0f && value < 1.0f,
               std::string(name) + " must be in [0, 1)",
               value);
}

//! `name` must be finite and >= 0 (eps, weight decay, momentum).
inline void check_non_negative(const char* op, const char* name, float value) {
  check_option(op,
               std::isfinite(value) && value >= 0.0f,
               std::string(name) + " must be finite and >= 0",
               value);
}

inline void require_schedule(const char* op, const Schedule& schedule) {
  if (!schedule) {
    fail(ErrorCode::invalid_config,
         std::string("[") + op +
             "] learning_rate is empty; pass a schedule such as "
             "constant_schedule(1e-5).");
  }
}

//! The options of the Adam family (AdamW, LAMB, NovoGrad): a schedule,
//! beta1 and beta2 in [0, 1), eps and weight_decay finite and >= 0.
template <class Options>
void check_moment_options(const char* op, const Options& options) {
  require_schedule(op, options.learning_rate);
  check_beta(op, "beta1", options.beta1);
  check_beta(op, "beta2", options.beta2);
  check_non_negative(op, "eps", options.eps);
  check_non_negative(op, "weight_decay", options.weight_decay);
}

} // namespace mlxt::optim::detail
