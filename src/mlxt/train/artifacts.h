// What a training run leaves behind: LoRA adapters in mlx-lm's layout, or a
// fully fine-tuned model as a Hugging Face-layout folder.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "mlxt/core/params.h"
#include "mlxt/models/model.h"
#include "mlxt/train/lora.h"

namespace mlxt::train {

//! Writes `dir`/adapters.safetensors (or `file_name`) and adapter_config.json,
//! each atomically.
void save_adapters(const std::filesystem::path& dir,
                   const Params& adapters,
                   const LoraSpec& spec,
                   const nlohmann::json& run_config,
                   const std::string& file_name = "adapters.safetensors");

//! Writes `model` into `dir` with the tokenizer files copied from
//! `tokenizer_dir`, so the folder loads as a model on its own.
void save_full_model(const std::filesystem::path& dir,
                     const models::Model& model,
                     const std::filesystem::path& tokenizer_dir);

//! Copies tokenizer.json, tokenizer_config.json and the other tokenizer
//! files that exist in `from` into `to`.
void copy_tokenizer_files(const std::filesystem::path& from,
                          const std::filesystem::path& to);

} // namespace mlxt::train
