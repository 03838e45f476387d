#include "mlxt/models/transformer.h"

#include <cmath>
#include <numbers>

namespace mlxt::models {

namespace {

// Quantized weights take their group size from the model's config.
void use_quantization(const ModelArgs& args, nn::ForwardContext& ctx) {
  if (args.quantization) {
    ctx.quant_group_size = args.quantization->group_size;
  }
}

std::string layer_prefix(int i) {
  return "model.layers." + std::to_string(i);
}

// x (B, H, L, D) -> rotated; positions start at `offset`.
mx::array apply_rope(const ModelArgs& args,
                     const std::optional<mx::array>& freqs,
                     const mx::array& x,
                     int offset) {
  if (freqs) {
    return mx::fast::rope(x,
                          args.head_dim,
                          args.rope_traditional,
                          std::nullopt,
                          1.0f,
                          offset,
                          freqs);
  }
  float scale = args.rope_scaling.type == "linear"
                    ? 1.0f / args.rope_scaling.factor
                    : 1.0f;
  return mx::fast::rope(
      x, args.head_dim, args.rope_traditional, args.rope_theta, scale, offset);
}

// x (B, H, L, D) rotated at explicit positions (B, L) int32: what
// fast::rope computes, with a position per token, so that packed documents
// each start at 0 (fast::rope takes one offset per sequence).
mx::array apply_rope_at(const ModelArgs& args,
                        const std::optional<mx::array>& freqs,
                        const mx::array& x,
                        const mx::array& positions) {
  const int D = args.head_dim;
  const int half = D / 2;
  // Inverse periods (half,): base^(-2i/D), or 1/freqs for llama3 scaling.
  mx::array inv = freqs ? mx::reciprocal(*freqs)
                        : mx::power(mx::array(args.rope_theta),
                                    mx::divide(mx::arange(0, D, 2, mx::float32),
                                               mx::array(-float(D))));
  const float scale = !freqs && args.rope_scaling.type == "linear"
                          ? 1.0f / args.rope_scaling.factor
                          : 1.0f;
  mx::array pos = mx::multiply(mx::astype(positions, mx::float32),
                               mx::array(scale)); // (B, L)
  mx::array angles = mx::multiply(mx::expand_dims(pos, {1, 3}),
                                  mx::reshape(inv, {1, 1, 1, half}));
  mx::array cos = mx::cos(angles); // (B, 1, L, half)
  mx::array sin = mx::sin(angles);
  mx::array xf = mx::astype(x, mx::float32);
  const int B = x.shape(0), H = x.shape(1), L = x.shape(2);
  mx::array out = xf;
  if (args.rope_traditional) {
    // Pairs (x[2i], x[2i+1]) rotate together.
    mx::array pairs = mx::reshape(xf, {B, H, L, half, 2});
    mx::array x1 = mx::take(pairs, 0, 4);
    mx::array x2 = mx::take(pairs, 1, 4);
    mx::array r1 = mx::subtract(mx::multiply(x1, cos), mx::multiply(x2, sin));
    mx::array r2 = mx::add(mx::multiply(x1, sin), mx::multiply(x2, cos));
    out = mx::reshape(mx::stack({r1, r2}, 4), {B, H, L, D});
  } else {
    // Halves (x[i], x[i + D/2]) rotate together.
    mx::array x1 = mx::slice(xf, {0, 0, 0, 0}, {B, H, L, half});
    mx::array x2 = mx::slice(xf, {0, 0, 0, half}, {B, H, L, D});
    out = mx::concatenate(
        {mx::subtract(mx::multiply(x1, cos), mx::multiply(x2, sin)),
         mx::add(mx::multiply(x1, sin), mx::multiply(x2, cos))},
        3);
  }
  return mx::astype(out, x.dtype());
}

// x (B, L, hidden) -> attention output (B, L, hidden).
mx::array attention(const ModelArgs& args,
                    const Params& w,
                    const std::string& prefix,
                    const mx::array& x,
                    const std::optional<mx::array>& freqs,
                    nn::ForwardContext& ctx,
                    KVCache* cache,
                    int layer) {
  const int B = x.shape(0);
  const int L = x.shape(1);
  const int D = args.head_dim;
  auto heads = [&](const mx::array& t, int n) {
    return mx::reshape(t, {B, L, n, D});
  };
  mx::array q = heads(nn::linear(w, prefix + ".q_proj", x, ctx),
                      args.num_attention_heads);
  mx::array k = heads(nn::linear(w, prefix + ".k_proj", x, ctx),
                      args.num_key_value_heads);
  mx::array v = heads(nn::linear(w, prefix + ".v_proj", x, ctx),
                      args.num_key_value_heads);
  if (args.qk_norm) {
    q = nn::rms_norm(w, prefix + ".q_norm", q, args.rms_norm_eps, ctx);
    k = nn::rms_norm(w, prefix + ".k_norm", k, args.rms_norm_eps, ctx);
  }
  q = mx::transpose(q, {0, 2, 1, 3});
  k = mx::transpose(k, {0, 2, 1, 3});
  v = mx::transpose(v, {0, 2, 1, 3});
  const int offset = cache ? cache->offset() : 0;
  if (ctx.positions) {
    q = apply_rope_at(args, freqs, q, *ctx.positions);
    k = apply_rope_at(args, freqs, k, *ctx.positions);
  } else {
    q = apply_rope(args, freqs, q, offset);
    k = apply_rope(args, freqs, k, offset);
  }
  if (cache) {
    std::tie(k, v) = cache->update_and_fetch(layer, k, v);
  }
  // A single new token attends to everything cached: no mask needed.
  // Packed documents bring their own block-diagonal causal mask.
  const std::string mask_mode = L > 1 && !ctx.attention_mask ? "causal" : "";
  mx::array out = mx::fast::scaled_dot_product_attention(
      q,
      k,
      v,
      1.0f / std::sqrt(static_cast<float>(D)),
      mask_mode,
      ctx.attention_mask);
  out = mx::reshape(mx::transpose(out, {0, 2, 1, 3}), {B, L, -1});
  return nn::linear(w, prefix + ".o_proj", out, ctx);
}

// SwiGLU: down(silu(gate(x)) * up(x)).
mx::array mlp(const Params& w,
              const std::string& prefix,
              const mx::array& x,
              nn::ForwardContext& ctx) {
  mx::array gate = nn::linear(w, prefix + ".gate_proj", x, ctx);
  mx::array up = nn::linear(w, prefix + ".up_proj", x, ctx);
  mx::array silu = mx::multiply(gate, mx::sigmoid(gate));
  return nn::linear(w, prefix + ".down_proj", mx::multiply(silu, up), ctx);
}

} // namespace

std::optional<mx::array> rope_frequencies(const ModelArgs& args) {
  if (args.rope_scaling.type != "llama3") {
    return std::nullopt;
  }
  // Llama 3.1's "llama3" scaling: long wavelengths are divided by `factor`,
  // short ones kept, and the band between interpolated smoothly. These are
  // periods (base^(2i/d)), the form fast::rope's `freqs` expects.
  const RopeScaling& s = args.rope_scaling;
  const int dims = args.head_dim;
  mx::array periods = mx::power(
      mx::array(args.rope_theta),
      mx::divide(mx::arange(0, dims, 2, mx::float32), mx::array(float(dims))));
  mx::array wavelens =
      mx::multiply(mx::array(2.0f * std::numbers::pi_v<float>), periods);
  const float old_len = static_cast<float>(s.original_max_position_embeddings);
  const float low_freq_wavelen = old_len / s.low_freq_factor;
  const float high_freq_wavelen = old_len / s.high_freq_factor;
  mx::array scaled =
      mx::where(mx::greater(wavelens, mx::array(low_freq_wavelen)),
                mx::multiply(periods, mx::array(s.factor)),
                periods);
  mx::array is_medium =
      mx::logical_and(mx::greater(wavelens, mx::array(high_freq_wavelen)),
                      mx::less(wavelens, mx::array(low_freq_wavelen)));
  mx::array smooth =
      mx::divide(mx::subtract(mx::divide(mx::array(old_len), wavelens),
                              mx::array(s.low_freq_factor)),
                 mx::array(s.high_freq_factor - s.low_freq_factor));
  mx::array smooth_periods =
      mx::divide(scaled,
                 mx::add(mx::divide(mx::subtract(mx::array(1.0f), smooth),
                                    mx::array(s.factor)),
                         smooth));
  return mx::where(is_medium, smooth_periods, scaled);
}

namespace {

// One pre-norm block: h + attn(norm(h)), then + mlp(norm(.)).
mx::array block(const ModelArgs& args,
                const Params& weights,
                int i,
                const mx::array& h_in,
                const std::optional<mx::array>& freqs,
                nn::ForwardContext& ctx,
                KVCache* cache) {
  const std::string prefix = layer_prefix(i);
  mx::array normed = nn::rms_norm(
      weights, prefix + ".input_layernorm", h_in, args.rms_norm_eps, ctx);
  mx::array h = mx::add(
      h_in,
      attention(
          args, weights, prefix + ".self_attn", normed, freqs, ctx, cache, i));
  normed = nn::rms_norm(
      weights, prefix + ".post_attention_layernorm", h, args.rms_norm_eps, ctx);
  return mx::add(h, mlp(weights, prefix + ".mlp", normed, ctx));
}

// The block under mx::checkpoint. Its weights and dropout key are passed as
// inputs, since a checkpointed function gives captured arrays no gradient
// and runs twice (the key must not advance between the runs).
mx::array checkpointed_block(const ModelArgs& args,
                             const Params& weights,
                             int i,
                             const mx::array& h,
                             const std::optional<mx::array>& freqs,
                             nn::ForwardContext& ctx) {
  const std::string prefix = layer_prefix(i) + ".";
  std::vector<std::string> names;
  std::vector<mx::array> inputs = {h};
  for (auto it = weights.lower_bound(prefix);
       it != weights.end() && it->first.starts_with(prefix);
       ++it) {
    names.push_back(it->first);
    inputs.push_back(it->second);
  }
  const bool with_key = ctx.lora_dropout > 0.0f;
  if (with_key) {
    inputs.push_back(ctx.next_key());
  }
  nn::ForwardContext inner = ctx;
  // Captured by value: the function runs again in the backward pass, after
  // this frame is gone. `args` outlives the whole step.
  auto fn = [&args, names, inner, i, freqs, with_key](
                const std::vector<mx::array>& in) {
    Params local;
    for (size_t k = 0; k < names.size(); ++k) {
      local.insert_or_assign(names[k], in[k + 1]);
    }
    nn::ForwardContext run_ctx = inner;
    if (with_key) {
      run_ctx.dropout_key = in.back();
    }
    return std::vector<mx::array>{
        block(args, local, i, in[0], freqs, run_ctx, nullptr)};
  };
  return mx::checkpoint(fn)(inputs)[0];
}

} // namespace

mx::array forward_hidden(const ModelArgs& args,
                         const Params& weights,
                         const mx::array& tokens,
                         nn::ForwardContext& ctx,
                         KVCache* cache) {
  const std::optional<mx::array> freqs = rope_frequencies(args);
  use_quantization(args, ctx);
  mx::array h = nn::embedding(weights, "model.embed_tokens", tokens, ctx);
  for (int i = 0; i < args.num_hidden_layers; ++i) {
    h = ctx.checkpoint_blocks && cache == nullptr
            ? checkpointed_block(args, weights, i, h, freqs, ctx)
            : block(args, weights, i, h, freqs, ctx, cache);
  }
  if (cache) {
    cache->advance(tokens.shape(1));
  }
  return nn::rms_norm(weights, "model.norm", h, args.rms_norm_eps, ctx);
}

mx::array lm_head(const ModelArgs& args,
                  const Params& weights,
                  const mx::array& hidden,
                  nn::ForwardContext& ctx) {
  use_quantization(args, ctx);
  if (args.tie_word_embeddings) {
    return nn::project(weights, "model.embed_tokens", hidden, ctx);
  }
  return nn::linear(weights, "lm_head", hidden, ctx);
}

mx::array forward(const ModelArgs& args,
                  const Params& weights,
                  const mx::array& tokens,
                  nn::ForwardContext& ctx,
                  KVCache* cache) {
  return lm_head(
      args, weights, forward_hidden(args, weights, tokens, ctx, cache), ctx);
}

} // namespace mlxt::models
