// Parameter trees as flat, name-ordered maps.
//
// Names are the Hugging Face safetensors keys
// ("model.layers.0.self_attn.q_proj.weight"), which are also mlx-lm's
// tree_flatten names, so loading and saving never renames anything. LoRA
// adapters live in the same map under "<linear>.lora_a" / "<linear>.lora_b".
#pragma once

#include <map>
#include <string>
#include <vector>

#include <mlx/mlx.h>

namespace mlxt {

namespace mx = mlx::core;

using Params = std::map<std::string, mx::array>;

//! The names of `params` in order.
std::vector<std::string> param_names(const Params& params);

//! The arrays of `params` in name order.
std::vector<mx::array> param_values(const Params& params);

//! Rebuilds a map from names and arrays of equal length.
Params zip_params(const std::vector<std::string>& names,
                  const std::vector<mx::array>& values);

//! The array called `name`; throws Error(internal) naming it when absent.
const mx::array& param(const Params& params, const std::string& name);

//! Total number of scalar elements.
size_t param_count(const Params& params);

} // namespace mlxt
