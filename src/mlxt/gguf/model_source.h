// Where a model comes from: a Hugging Face / MLX model folder or a .gguf
// file. Every command that takes --model opens it through here.
#pragma once

#include <filesystem>

#include "mlxt/models/model.h"
#include "mlxt/tokenizer/tokenizer.h"

namespace mlxt::gguf {

struct ModelWithTokenizer {
  models::Model model;
  tokenizer::Tokenizer tokenizer;
};

//! Loads the folder `path`, or imports the .gguf file `path` as it is
//! stored (quantized weights stay quantized).
ModelWithTokenizer open_model(const std::filesystem::path& path);

} // namespace mlxt::gguf
