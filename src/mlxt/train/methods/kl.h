// Per-token estimators of KL(pi || pi_ref) from the sampled token's
// log-probabilities (Schulman 2020, "Approximating KL Divergence"), with
// log r = logp_ref - logp:
//   k1 = -log r                 unbiased, high variance, can be negative
//   k2 = (log r)^2 / 2          biased, low variance
//   k3 = (r - 1) - log r        unbiased, low variance, never negative
// GRPO's loss uses k3 (as TRL); PPO's KL penalty takes any (TRL's
// kl_estimator, default k1).
#pragma once

#include <mlx/mlx.h>

namespace mlxt::train {

namespace mx = mlx::core;

enum class KlEstimator { k1, k2, k3 };

//! logps and ref_logps (..., T) float32 -> the estimate per token, same
//! shape.
mx::array kl_estimate(const mx::array& logps,
                      const mx::array& ref_logps,
                      KlEstimator estimator);

} // namespace mlxt::train
