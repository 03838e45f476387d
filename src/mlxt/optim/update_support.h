// Internal to optim: the small pieces every optimizer's update shares
// (weakly typed scalars, input checks, option checks).
#pragma once

#include <string>
#include <vector>

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

//! Checks `per_param` state arrays per parameter and gradient shapes equal to
//! the parameters'. A mismatch is a caller bug, hence internal.
inline void check_update_inputs(const char* op,
                                const std::vector<mx::array>& params,
                                const std::vector<mx::array>& grads,
                                const std::vector<mx::array>& state,
                                size_t per_param) {
  if (grads.size() != params.size() ||
      state.size() != per_param * params.size()) {
    fail(ErrorCode::internal,
         std::string("[") + op + "] expected " + std::to_string(params.size()) +
             " gradients and " + std::to_string(per_param * params.size()) +
             " state arrays for " + std::to_string(params.size()) +
             " parameters, but received " + std::to_string(grads.size()) +
             " and " + std::to_string(state.size()) + ".");
  }
  for (size_t i = 0; i < params.size(); ++i) {
    if (grads[i].shape() != params[i].shape()) {
      fail(ErrorCode::internal,
           std::string("[") + op + "] parameter " + std::to_string(i) +
               ": the gradient's shape differs from the parameter's.");
    }
  }
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

inline void require_schedule(const char* op, const Schedule& schedule) {
  if (!schedule) {
    fail(ErrorCode::invalid_config,
         std::string("[") + op +
             "] learning_rate is empty; pass a schedule such as "
             "constant_schedule(1e-5).");
  }
}

} // namespace mlxt::optim::detail
