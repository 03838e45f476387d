#include "mlxt/generate/batch_generate.h"

#include <algorithm>

#include "mlxt/core/error.h"
#include "mlxt/models/kv_cache.h"
#include "mlxt/models/transformer.h"

namespace mlxt::generate {

namespace {

// (B, 1, L, S) bool: query t of row b (absolute position first + t) may see
// key s when s is one of b's real tokens at or before it. A padding query
// sees only itself, so its (unused) output stays finite and never turns
// a masked product into NaN.
mx::array left_padded_mask(const std::vector<int>& pads, int first, int L) {
  const int B = static_cast<int>(pads.size());
  const int S = first + L;
  std::vector<uint8_t> allowed(static_cast<size_t>(B) * L * S, 0);
  for (int b = 0; b < B; ++b) {
    for (int t = 0; t < L; ++t) {
      const int q = first + t;
      for (int s = 0; s < S; ++s) {
        allowed[(size_t(b) * L + t) * S + s] =
            (s >= pads[b] && s <= q) || s == q;
      }
    }
  }
  return mx::astype(mx::array(allowed.begin(), {B, 1, L, S}, mx::uint8),
                    mx::bool_);
}

// (B, L) int32 RoPE positions: each row counts from its first real token.
mx::array row_positions(const std::vector<int>& pads, int first, int L) {
  const int B = static_cast<int>(pads.size());
  std::vector<int32_t> pos(static_cast<size_t>(B) * L);
  for (int b = 0; b < B; ++b) {
    for (int t = 0; t < L; ++t) {
      pos[size_t(b) * L + t] = std::max(first + t - pads[b], 0);
    }
  }
  return mx::array(pos.begin(), {B, L}, mx::int32);
}

} // namespace

std::vector<std::vector<int>>
generate_batch(const models::ModelArgs& args,
               const Params& weights,
               const nn::ForwardContext& ctx_in,
               const std::vector<std::vector<int>>& prompts,
               const SamplingOptions& options,
               mx::array& key) {
  const int B = static_cast<int>(prompts.size());
  int P = 0;
  for (const auto& p : prompts) {
    if (p.empty()) {
      fail(ErrorCode::invalid_config,
           "batched generation: a prompt encodes to no tokens",
           {.key = "prompt"});
    }
    P = std::max(P, static_cast<int>(p.size()));
  }
  std::vector<int> pads(B);
  std::vector<int32_t> padded(static_cast<size_t>(B) * P, 0);
  bool any_pad = false;
  for (int b = 0; b < B; ++b) {
    pads[b] = P - static_cast<int>(prompts[b].size());
    any_pad = any_pad || pads[b] > 0;
    std::copy(prompts[b].begin(),
              prompts[b].end(),
              padded.begin() + size_t(b) * P + pads[b]);
  }
  nn::ForwardContext ctx = ctx_in;
  ctx.lora_dropout = 0.0f;
  ctx.checkpoint_blocks = false;
  models::KVCache cache(args.num_hidden_layers);
  std::vector<std::vector<int>> out(B);
  std::vector<bool> done(B, false);
  int running = B;
  mx::array input(padded.begin(), {B, P}, mx::int32);
  for (int i = 0; i < options.max_tokens && running > 0; ++i) {
    const int first = cache.offset();
    const int L = input.shape(1);
    // Rows of equal length need neither: the causal (prefill) or no (one
    // token) mask and positions from the cache offset are exact.
    if (any_pad) {
      ctx.attention_mask = left_padded_mask(pads, first, L);
      ctx.positions = row_positions(pads, first, L);
    }
    mx::array logits = models::forward(args, weights, input, ctx, &cache);
    const int V = logits.shape(2);
    mx::array last =
        mx::reshape(mx::slice(logits, {0, L - 1, 0}, {B, L, V}), {B, V});
    auto [next_key, sub] = mx::random::split(key);
    key = next_key;
    mx::array next = sample_tokens(last, options, sub);
    mx::eval(next);
    const int32_t* ids = next.data<int32_t>();
    for (int b = 0; b < B; ++b) {
      if (done[b]) {
        continue;
      }
      out[b].push_back(ids[b]);
      if (std::find(options.stop_ids.begin(), options.stop_ids.end(), ids[b]) !=
          options.stop_ids.end()) {
        done[b] = true;
        --running;
      }
    }
    input = mx::reshape(next, {B, 1});
  }
  return out;
}

} // namespace mlxt::generate
