// Random-initialised models of the supported architectures, so everything
// works offline: tests, the quickstart and benchmarks.
#pragma once

#include <string>

#include "mlxt/models/model.h"

namespace mlxt::models {

struct InitOptions {
  std::string arch = "llama";  // a supported model_type
  std::string preset = "tiny"; // tiny | small
  int vocab_size = 512;
  int seed = 0;
  float init_std = 0.02f; // N(0, std) for matrices, as HF initialises
};

//! The config.json object of a preset (throws Error(invalid_config) naming
//! `arch` or `preset` when unknown).
nlohmann::json preset_config(const InitOptions& options);

//! A model with the preset's shapes: matrices ~ N(0, init_std), biases 0,
//! norm weights 1, all float32.
Model init_model(const InitOptions& options);

//! A model for any config.json object, initialised the same way, in `dtype`.
Model init_model_from_config(const nlohmann::json& config,
                             int seed,
                             float init_std,
                             mx::Dtype dtype = mx::float32);

} // namespace mlxt::models
