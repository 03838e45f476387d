// Model: a Llama-family checkpoint in memory (hyper-parameters + weights),
// loaded from and saved to Hugging Face-layout folders.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <mlx/mlx.h>

#include "mlxt/core/params.h"
#include "mlxt/models/args.h"

namespace mlxt::models {

struct Model {
  ModelArgs args;
  Params weights; // HF names -> arrays
};

//! Name -> shape of every weight `args` calls for (biases and q/k norms as
//! the architecture requires; no lm_head when tied).
std::map<std::string, mx::Shape> expected_weight_shapes(const ModelArgs& args);

//! Drops what checkpoints carry but the model does not use (precomputed
//! rotary inv_freq, a tied lm_head), then checks `weights` against the
//! expected names and shapes. One Error(invalid_model) lists every missing,
//! unexpected and wrong-shape tensor, naming `source`.
Params
check_weights(const ModelArgs& args, Params weights, const std::string& source);

//! Loads config.json and the weights of the folder `dir`.
Model load_model(const std::filesystem::path& dir);

//! Writes config.json and the weights into `dir` (created if needed).
void save_model(const std::filesystem::path& dir, const Model& model);

//! Reads and parses `dir`/config.json.
ModelArgs load_model_args(const std::filesystem::path& dir);

} // namespace mlxt::models
