// The models on disk: the model cache that `mlxt models fetch` fills
// ($MLXT_HOME/models), and one listing of a models folder, its model
// folders (config.json + safetensors) and .gguf files, used by
// `mlxt models list` and the server's GET /v1/models.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

namespace mlxt::gguf {

//! $MLXT_HOME/models; MLXT_HOME defaults to $XDG_CACHE_HOME/mlxt, then
//! ~/.cache/mlxt.
std::filesystem::path model_cache_dir();

//! {"folder": dir, "models": [...], "problems": [{"path", "error"}]}: one
//! entry per model folder (name, path, format "folder", architecture,
//! architectures, parameters, dtype, quantization; read from config.json
//! and the safetensors headers) and per .gguf file (name, path, format
//! "gguf", architecture, parameters, dtype as the ggml type holding most
//! elements, bytes; from a checked header walk). No weights are read. A
//! folder or file that cannot be described is listed under problems, so
//! one broken entry does not hide the others. A missing `dir` is empty.
nlohmann::json list_models(const std::filesystem::path& dir);

} // namespace mlxt::gguf
