// Losses for language-model training.
#pragma once

#include <mlx/mlx.h>

namespace mlxt::train {

namespace mx = mlx::core;

//! Masked next-token cross-entropy, summed: sum_{b,t} mask[b,t] *
//! (logsumexp(logits[b,t]) - logits[b,t,targets[b,t]]), computed in float32.
//! logits (B, T, V) any float dtype; targets (B, T) int32; mask (B, T)
//! float32. Returns a float32 scalar.
mx::array masked_cross_entropy_sum(const mx::array& logits,
                                   const mx::array& targets,
                                   const mx::array& mask);

} // namespace mlxt::train
