// Losses for language-model training.
#pragma once

#include <mlx/mlx.h>

#include "mlxt/core/params.h"
#include "mlxt/models/args.h"
#include "mlxt/nn/layers.h"

namespace mlxt::train {

namespace mx = mlx::core;

//! Masked next-token cross-entropy, summed: sum_{b,t} mask[b,t] *
//! (logsumexp(logits[b,t]) - logits[b,t,targets[b,t]]). The log-sum-exp
//! accumulates in float32 but the logits are not copied to float32: per-token
//! terms carry the logits' precision, their difference and sum are float32.
//! logits (B, T, V) any float dtype; targets (B, T) int32; mask (B, T)
//! float32. Returns a float32 scalar.
mx::array masked_cross_entropy_sum(const mx::array& logits,
                                   const mx::array& targets,
                                   const mx::array& mask);

//! The same loss from the final hidden states, through the LM head
//! `chunk_rows` positions at a time. Each chunk runs under mx::checkpoint, so
//! only one chunk's (chunk_rows, V) logits exist at once, in the forward and
//! in the backward pass (where they are recomputed): B x T x V logits are
//! never materialised. hidden (B, T, D); targets (B, T) int32; mask (B, T)
//! float32. chunk_rows <= 0 computes all rows at once.
mx::array chunked_lm_loss_sum(const models::ModelArgs& args,
                              const Params& weights,
                              const mx::array& hidden,
                              const mx::array& targets,
                              const mx::array& mask,
                              const nn::ForwardContext& ctx,
                              int chunk_rows);

//! log sigmoid(x) = -log(1 + exp(-x)), elementwise, stable for large |x|.
mx::array log_sigmoid(const mx::array& x);

} // namespace mlxt::train
