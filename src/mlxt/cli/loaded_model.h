// A model ready for inference: weights (+ adapters), tokenizer and the
// forward context, as `mlxt generate` and `mlxt eval` need them.
#pragma once

#include <string>
#include <vector>

#include "mlxt/models/model.h"
#include "mlxt/nn/layers.h"
#include "mlxt/tokenizer/tokenizer.h"

namespace mlxt::cli {

struct LoadedModel {
  models::Model model; // adapters merged into weights as extra entries
  tokenizer::Tokenizer tokenizer;
  nn::ForwardContext ctx;
};

//! Loads `model_dir` (a folder or a .gguf file), its tokenizer and, when
//! `adapter_dir` is not empty, the LoRA adapters saved there.
LoadedModel load_for_inference(const std::string& model_dir,
                               const std::string& adapter_dir);

//! Adds the LoRA adapters saved in `adapter_dir` to `m` (nothing when it is
//! empty).
void add_adapters(LoadedModel& m, const std::string& adapter_dir);

//! Token ids of a user prompt: through the chat template when the tokenizer
//! has one (and !raw), else the plain encoding.
std::vector<int> encode_prompt(const LoadedModel& m,
                               const std::string& prompt,
                               const std::string& system,
                               bool raw);

} // namespace mlxt::cli
