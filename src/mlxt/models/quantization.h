// Affine-quantized weights as mlx-lm stores them: config.json's
// "quantization": {"group_size", "bits"} plus, per quantized layer, a packed
// uint32 `weight` (out, in * bits / 32), `scales` and `biases` (out,
// in / group_size). A layer may override the bits with its own entry,
// e.g. "model.embed_tokens": {"group_size": 32, "bits": 8}, or opt out with
// `false`, as mlx-lm's per-layer quantization allows.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "mlxt/core/params.h"

namespace mlxt::models {

struct Quantization {
  int group_size = 64;
  int bits = 4;
  //! Layer prefix ("model.embed_tokens") -> bits; 0 = not quantized.
  std::map<std::string, int> layer_bits;

  //! Bits of the layer `prefix`; 0 when it stays unquantized.
  int bits_for(const std::string& prefix) const;
  //! The config.json "quantization" object.
  nlohmann::json to_json() const;
};

//! Reads config.json's "quantization" (nullopt when absent). Throws
//! Error(invalid_model) naming the key for bad values and Error(unsupported)
//! for a mode other than affine or a per-layer group size that differs from
//! the global one.
std::optional<Quantization> parse_quantization(const nlohmann::json& config,
                                               const std::string& source);

//! Parameters as a person counts them: a quantized weight by its logical
//! (rows x columns) elements, not its packed words, and its scales and
//! biases not at all.
size_t logical_parameter_count(const Params& weights, int group_size);

} // namespace mlxt::models
