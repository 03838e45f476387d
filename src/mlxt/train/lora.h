// LoRA adapters (Hu et al., 2021, "LoRA: Low-Rank Adaptation of Large
// Language Models"): y = x W^T + scale * (dropout(x) A) B, with A (in, r) ~
// U(+-1/sqrt(in)) and B (r, out) = 0, both float32, as mlx-lm creates them.
// Adapters are saved in mlx-lm's layout (adapters.safetensors with
// "<linear>.lora_a" / ".lora_b" keys + adapter_config.json).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/core/params.h"
#include "mlxt/models/args.h"

namespace mlxt::train {

struct LoraSpec {
  int rank = 8;
  float scale = 20.0f;
  float dropout = 0.0f;
  int num_layers = 16;           // the last N blocks; -1 = all
  std::vector<std::string> keys; // block-relative linears; empty = all seven
};

//! The block-relative names of every linear layer in a block.
std::vector<std::string> block_linear_keys();

//! Fresh adapters for `weights` (a model's base weights). Throws
//! Error(invalid_config) naming lora_parameters.keys for a key that names no
//! linear layer.
Params init_lora_adapters(const models::ModelArgs& args,
                          const Params& weights,
                          const LoraSpec& spec,
                          uint64_t seed);

//! `weights` without their LoRA adapters (names ending in .lora_a or
//! .lora_b): the base model, which the layers then run without the LoRA
//! path. A method's frozen reference for LoRA, with no second copy.
Params without_adapters(const Params& weights);

//! adapter_config.json contents that mlx-lm's load_adapters accepts.
nlohmann::json adapter_config_json(const LoraSpec& spec,
                                   const nlohmann::json& run_config);

//! Reads adapter_config.json of `dir` into a LoraSpec.
LoraSpec read_adapter_config(const std::filesystem::path& dir);

//! Loads `dir`/adapters.safetensors and checks every adapter names a linear
//! layer of `weights` with matching shapes (Error(invalid_model) otherwise).
Params load_adapters(const std::filesystem::path& dir,
                     const models::ModelArgs& args,
                     const Params& weights);

//! Loads the adapter file `file`, which must hold exactly the adapters of
//! `expected` with their shapes (Error(invalid_model) listing each
//! difference otherwise); values take the dtypes of `expected`.
Params load_adapter_file(const std::filesystem::path& file,
                         const Params& expected);

//! Merges LoRA `adapters` into the linear weights of `weights`:
//! W (out, in) += scale * (A (in, r) B (r, out))^T, in float32, each weight
//! keeping its dtype.
void merge_lora_adapters(Params& weights, const Params& adapters, float scale);

} // namespace mlxt::train
