// The layers of a Llama-family block as functions of a parameter map.
//
// A layer is named by its prefix ("model.layers.3.self_attn.q_proj") and reads
// its arrays from the map: `weight` (out, in), optional `bias` (out,), and,
// when present, LoRA adapters `lora_a` (in, r) and `lora_b` (r, out). Adapters
// are therefore just extra map entries: no module tree to rewrite. A weight
// may be affine-quantized (MLX/mlx-lm layout): a packed uint32 `weight`
// (out, in * bits / 32) with `scales` and `biases` (out, in / group_size);
// it is then multiplied through MLX's quantized_matmul, never dequantized.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include <mlx/mlx.h>

#include "mlxt/core/params.h"

namespace mlxt::nn {

namespace mx = mlx::core;

//! What one forward pass needs besides the weights.
struct ForwardContext {
  mx::Dtype compute_dtype = mx::float32; // activations and weights cast to it
  float lora_scale = 20.0f;              // y += lora_scale * (dropout(x) A) B
  float lora_dropout = 0.0f; // applied to the adapter input while training
  //! uint32 (2,) RNG key for dropout; each use splits it. Required when
  //! lora_dropout > 0.
  std::optional<mx::array> dropout_key;
  //! Recompute each block's activations in the backward pass instead of
  //! keeping them (gradient checkpointing): less memory, ~1/3 more compute.
  bool checkpoint_blocks = false;
  //! Packed sequences (data/packing.h): (B, 1, T, T) bool, true where query
  //! t may attend to key s (same document, s <= t); replaces the causal mask.
  std::optional<mx::array> attention_mask;
  //! (B, T) int32 RoPE positions, restarting at 0 for each packed document;
  //! unset = 0..T-1.
  std::optional<mx::array> positions;
  //! Group size of quantized weights (the model's quantization.group_size).
  int quant_group_size = 64;

  //! A fresh key for one dropout draw (advances dropout_key).
  mx::array next_key();
};

//! True when `prefix`.weight is quantized (has `prefix`.scales).
bool is_quantized(const Params& w, const std::string& prefix);

//! {out, in} of the matrix `prefix`.weight, dense or quantized with
//! `group_size`.
std::pair<int, int>
matrix_dims(const Params& w, const std::string& prefix, int group_size);

//! x (..., in) -> (..., out): x W^T with `prefix`.weight, dense or
//! quantized, in the compute dtype. No bias, no adapters (a tied LM head).
mx::array project(const Params& w,
                  const std::string& prefix,
                  const mx::array& x,
                  const ForwardContext& ctx);

//! x (..., in) -> (..., out): x W^T + b, plus the LoRA path when adapters
//! exist under `prefix`.
mx::array linear(const Params& w,
                 const std::string& prefix,
                 const mx::array& x,
                 ForwardContext& ctx);

//! ids (B, T) int -> (B, T, D) rows of `prefix`.weight in the compute dtype.
mx::array embedding(const Params& w,
                    const std::string& prefix,
                    const mx::array& ids,
                    const ForwardContext& ctx);

//! RMSNorm over the last axis with `prefix`.weight, eps as given.
mx::array rms_norm(const Params& w,
                   const std::string& prefix,
                   const mx::array& x,
                   float eps,
                   const ForwardContext& ctx);

//! Inverted dropout: keeps each element with probability 1 - p, scaled by
//! 1/(1 - p).
mx::array dropout(const mx::array& x, float p, const mx::array& key);

} // namespace mlxt::nn
