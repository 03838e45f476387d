// The Llama-family decoder: embeddings, N pre-norm blocks of grouped-query
// attention (RoPE, optional q/k RMSNorm) and a SwiGLU MLP, a final RMSNorm,
// and a tied or separate LM head. One implementation for every registered
// architecture; ModelArgs' flags select the differences.
#pragma once

#include <mlx/mlx.h>

#include "mlxt/core/params.h"
#include "mlxt/models/args.h"
#include "mlxt/models/kv_cache.h"
#include "mlxt/nn/layers.h"

namespace mlxt::models {

namespace mx = mlx::core;

//! tokens (B, T) int32 -> final hidden states (B, T, hidden) in the compute
//! dtype, before the LM head. With a cache, positions continue from its
//! offset and the cache is extended.
mx::array forward_hidden(const ModelArgs& args,
                         const Params& weights,
                         const mx::array& tokens,
                         nn::ForwardContext& ctx,
                         KVCache* cache = nullptr);

//! hidden (..., hidden) -> logits (..., vocab) through the LM head (the
//! embedding matrix when tied).
mx::array lm_head(const ModelArgs& args,
                  const Params& weights,
                  const mx::array& hidden,
                  nn::ForwardContext& ctx);

//! tokens (B, T) int32 -> logits (B, T, vocab).
mx::array forward(const ModelArgs& args,
                  const Params& weights,
                  const mx::array& tokens,
                  nn::ForwardContext& ctx,
                  KVCache* cache = nullptr);

//! The RoPE frequencies for llama3 scaling (head_dim/2,) float32, or nullopt
//! when RoPE uses a plain base.
std::optional<mx::array> rope_frequencies(const ModelArgs& args);

} // namespace mlxt::models
