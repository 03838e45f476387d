// GGUF import: a .gguf file as a model in memory (HF names, quantized
// weights as MLX affine triples or dequantized) plus its tokenizer, and as a
// model folder that mlxt and mlx-lm both load.
#pragma once

#include <filesystem>
#include <optional>

#include <mlx/mlx.h>

#include "mlxt/gguf/tokenizer_import.h"
#include "mlxt/models/model.h"

namespace mlxt::gguf {

struct ImportOptions {
  //! Dequantize every quantized weight (else keep MLX's affine triples).
  bool dequantize = false;
  //! Cast every float tensor (norms, scales, biases, dequantized weights)
  //! to this dtype; nullopt keeps the file's dtypes (f32 norms, f16 scales).
  std::optional<mx::Dtype> dtype;
};

struct ImportedModel {
  models::Model model;
  TokenizerFiles tokenizer;
};

//! True when `path` names a .gguf file (by extension).
bool is_gguf_path(const std::filesystem::path& path);

//! Reads and checks `path` (see check_gguf_file), maps the llama metadata
//! and tensors, and builds the tokenizer files. Throws Error with the file
//! and the key or tensor named.
ImportedModel import_gguf(const std::filesystem::path& path,
                          const ImportOptions& options = {});

//! Writes config.json, the weights, tokenizer.json and tokenizer_config.json
//! into `dir` (created if needed), each file atomically.
void save_imported(const std::filesystem::path& dir, const ImportedModel& m);

} // namespace mlxt::gguf
