// ModelArgs: the hyper-parameters of a Llama-family model, read from a
// Hugging Face config.json.
//
// One struct serves every supported model_type; the architecture registry
// (registry.h) sets what differs between them (attention biases, q/k norms,
// defaults).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "mlxt/models/quantization.h"

namespace mlxt::models {

//! RoPE frequency scaling from config.json's "rope_scaling".
struct RopeScaling {
  std::string type = "default"; // default | linear | llama3
  float factor = 1.0f;
  float low_freq_factor = 1.0f;                // llama3 only
  float high_freq_factor = 4.0f;               // llama3 only
  int original_max_position_embeddings = 8192; // llama3 only
};

struct ModelArgs {
  std::string model_type; // HF model_type: llama | mistral | qwen2 | qwen3
  int hidden_size = 0;
  int num_hidden_layers = 0;
  int intermediate_size = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0; // grouped-query attention when < heads
  int head_dim = 0;            // hidden_size / heads unless given
  int vocab_size = 0;
  int max_position_embeddings = 0; // 0 when not given
  float rms_norm_eps = 1e-5f;
  float rope_theta = 10000.0f;
  bool rope_traditional = false;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = true;
  bool qkv_bias = false;    // biases on q/k/v projections
  bool o_proj_bias = false; // bias on the attention output projection
  bool mlp_bias = false;    // biases on gate/up/down projections
  bool qk_norm = false;     // RMSNorm on each head's queries and keys (qwen3)
  //! Set when the linears and the embedding are affine-quantized.
  std::optional<Quantization> quantization;

  //! The config.json object as read; saving writes it back unchanged, so
  //! keys this struct does not model survive a round trip.
  nlohmann::json config;
};

//! Parses a config.json object; `source` (the file) names it in errors.
//! Throws Error(invalid_model) naming the key for missing or bad values and
//! Error(unsupported) for an unknown model_type or rope_scaling type.
ModelArgs parse_model_args(const nlohmann::json& config,
                           const std::string& source);

} // namespace mlxt::models
