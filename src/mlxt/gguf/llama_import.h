// The "llama" architecture of GGUF files: hyper-parameters from the
// `llama.*` metadata as a Hugging Face config.json, and tensors renamed to
// the Hugging Face names with the q/k row order of HF checkpoints.
//
// llama.cpp's converter reorders the rows of q_proj and k_proj so that its
// rotary embedding, which rotates adjacent pairs, computes what HF's
// rotate-half rotary computes on the original rows. Here the rows go back
// to HF order, so the model runs with HF's (non-traditional) rotary and
// saves as an HF checkpoint.
#pragma once

#include <string>
#include <unordered_map>

#include <mlx/mlx.h>
#include <nlohmann/json.hpp>

#include "mlxt/core/params.h"
#include "mlxt/gguf/file_check.h"
#include "mlxt/gguf/metadata.h"
#include "mlxt/models/args.h"

namespace mlxt::gguf {

//! A config.json object (model_type "llama") from the metadata. Throws
//! Error(unsupported) naming general.architecture for anything but llama,
//! and naming the key for rope scaling or partial rotary it cannot express.
nlohmann::json llama_config(const Metadata& meta, const FileInfo& info);

//! The quantization entry implied by the file's tensor types (nullopt when
//! no tensor is quantized): group size 32, the most common bits as default,
//! per-layer entries for the rest.
std::optional<models::Quantization> quantization_of(const FileInfo& info);

//! HF-named weights from MLX's loaded arrays (`blk.N.attn_q.weight` ->
//! `model.layers.N.self_attn.q_proj.weight`, `.scales`/`.biases` alike),
//! q/k rows restored to HF order. Throws Error(unsupported) naming a tensor
//! that has no HF counterpart.
Params llama_weights(std::unordered_map<std::string, mx::array> arrays,
                     const models::ModelArgs& args,
                     const std::string& source);

} // namespace mlxt::gguf
