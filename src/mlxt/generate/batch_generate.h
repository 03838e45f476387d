// Batched sampling with a KV cache: many prompts (a batch of prompts, or G
// copies of one prompt for GRPO's groups) continued together, one forward
// pass per new token for the whole batch. Prompts of different lengths are
// left-padded; an attention mask keeps every row off its padding and RoPE
// positions start at each row's first real token, so a row continues as it
// would alone (up to floating-point summation order).
#pragma once

#include <vector>

#include "mlxt/generate/generate.h"

namespace mlxt::generate {

//! Continues each prompt (token ids, non-empty) under `options` (its `seed`
//! is not used): `key` (uint32 (2,)) drives the sampling and is advanced
//! once per generated position, so a caller that stores it (a training
//! checkpoint) continues the same random stream. Each row stops after a
//! stop id (included) or max_tokens ids. Returns the new ids per row.
std::vector<std::vector<int>>
generate_batch(const models::ModelArgs& args,
               const Params& weights,
               const nn::ForwardContext& ctx,
               const std::vector<std::vector<int>>& prompts,
               const SamplingOptions& options,
               mx::array& key);

} // namespace mlxt::generate
