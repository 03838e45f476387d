// Text generation with a KV cache: greedy, temperature and nucleus (top-p)
// sampling. Used by `mlxt generate` and the quickstart's before/after demo.
#pragma once

#include <functional>
#include <vector>

#include "mlxt/core/params.h"
#include "mlxt/models/args.h"
#include "mlxt/nn/layers.h"

namespace mlxt::generate {

struct SamplingOptions {
  int max_tokens = 64;
  float temperature = 0.0f; // 0 = greedy
  float top_p = 1.0f; // keep the smallest set of tokens with mass >= top_p
  int seed = 0;
  std::vector<int> stop_ids; // generation ends after any of these
};

//! How long one generate_tokens call took, as `mlxt generate --verbose`
//! reports it.
struct GenerationStats {
  int prompt_tokens = 0;
  int generated_tokens = 0;
  double time_to_first_token_s = 0; // prompt forward pass + first sample
  double after_first_token_s = 0;   // from the first new token to the last

  //! Prompt tokens processed per second before the first new token.
  double prompt_tokens_per_s() const;
  //! New tokens per second after the first (the decoding speed).
  double generation_tokens_per_s() const;
};

//! scaled logits (..., V) float32 with every token outside the top_p
//! nucleus (along the last axis) set to -inf; unchanged when top_p >= 1.
mx::array nucleus_filter(const mx::array& scaled, float top_p);

//! logits (..., V) float -> the next token ids (...) int32 under `options`,
//! one categorical draw per row from `key` (used only when sampling).
mx::array sample_tokens(const mx::array& logits,
                        const SamplingOptions& options,
                        const mx::array& key);

//! logits (V,) float -> the next token id under `options` (`key` is used
//! only when sampling).
int sample_token(const mx::array& logits,
                 const SamplingOptions& options,
                 const mx::array& key);

//! Continues `prompt` (token ids). `on_token` (optional) sees each new id as
//! it is produced; `stats` (optional) receives the timings. Returns the new
//! ids (stop id included when hit).
std::vector<int> generate_tokens(const models::ModelArgs& args,
                                 const Params& weights,
                                 const nn::ForwardContext& ctx,
                                 const std::vector<int>& prompt,
                                 const SamplingOptions& options,
                                 const std::function<void(int)>& on_token = {},
                                 GenerationStats* stats = nullptr);

} // namespace mlxt::generate
