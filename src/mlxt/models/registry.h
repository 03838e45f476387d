// The table of supported architectures, keyed by Hugging Face model_type.
//
// Each architecture file (llama.cpp, mistral.cpp, qwen2.cpp, qwen3.cpp)
// defines one ArchSpec: how its config.json differs from the common Llama
// reading (defaults, biases, q/k norms). The forward pass is shared
// (transformer.h).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/models/args.h"

namespace mlxt::models {

struct ArchSpec {
  const char* model_type;
  float default_rope_theta;
  //! Sets the architecture's flags after the common fields were read.
  void (*apply)(const nlohmann::json& config, ModelArgs& args);
};

const ArchSpec& llama_arch();
const ArchSpec& mistral_arch();
const ArchSpec& qwen2_arch();
const ArchSpec& qwen3_arch();

//! The spec for `model_type`, or nullptr when unsupported.
const ArchSpec* find_arch(const std::string& model_type);

//! The supported model_type names, for messages and `init-model --arch`.
std::vector<std::string> supported_model_types();

} // namespace mlxt::models
