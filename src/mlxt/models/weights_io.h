// Model folders: the weights of a Hugging Face / MLX checkpoint.
//
// Reads `model.safetensors` or the shards listed in
// `model.safetensors.index.json` (its weight_map is validated: every shard
// exists, every listed tensor is in its shard). Pickle weights (.bin, .pt,
// .pth) are refused with a message saying how to convert them. Saving writes
// the same layout with the same keys, so load -> save -> load is bit-exact.
#pragma once

#include <cstdint>
#include <filesystem>

#include "mlxt/core/params.h"

namespace mlxt::models {

//! Loads all weights of the model folder `dir`.
Params load_weights(const std::filesystem::path& dir);

//! Saves `weights` into `dir` as model.safetensors, or as
//! model-0000i-of-0000N.safetensors shards of at most `max_shard_bytes` plus
//! model.safetensors.index.json when they do not fit in one. Files are
//! written atomically; stale shards of an earlier save are removed last.
void save_weights(const std::filesystem::path& dir,
                  const Params& weights,
                  uint64_t max_shard_bytes = 5'000'000'000ULL);

} // namespace mlxt::models
