// Precomputed reference log-probs (precompute_ref_log_probs): the frozen
// reference's summed answer log-probs of every pair of a split, computed
// once before training and cached on disk, so training steps run no
// reference forward and later runs skip the pass.
//
// A split's file is <root>/<key>.bin, key = SHA-256 over the split file's
// bytes, the policy's tokenizer digest (data/encoded_cache.h), max_seq_length
// (the encoding), the reference's identity (methods/dpo_reference.h: its
// weight files' contents, kind, compute dtype) and kRefCacheVersion. Layout
// (little-endian): "MLXTREF\0", u32 version, u32 0, u64 pairs n, char[64] key
// (hex), float32 chosen[n], float32 rejected[n]; written to a temporary
// name and renamed into place. A file of another version, key or size is
// ignored and rebuilt.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "mlxt/config/config.h"
#include "mlxt/data/preference_data.h"
#include "mlxt/models/args.h"
#include "mlxt/nn/layers.h"
#include "mlxt/train/methods/dpo_batches.h"

namespace mlxt::train {

inline constexpr int kRefCacheVersion = 1;

//! The folder of a run's reference log-prob files: <data_cache>/ref_logprobs
//! (<runs_dir>/.cache/ref_logprobs when data_cache is empty), or nullopt for
//! data_cache: none (computed in memory every run).
std::optional<std::filesystem::path>
ref_cache_root(const config::TrainConfig& config);

//! The cache key of split file `file` for this run's reference.
std::string ref_cache_key(const config::TrainConfig& config,
                          const std::filesystem::path& file);

//! The cached log-probs of `pairs` pairs under `key`, or nullopt when the
//! file is absent or is not that (version, key, size).
std::optional<RefLogprobs> read_ref_logprobs(const std::filesystem::path& file,
                                             const std::string& key,
                                             size_t pairs);

//! Writes `values` atomically. Error(io) when it cannot.
void write_ref_logprobs(const std::filesystem::path& file,
                        const std::string& key,
                        const RefLogprobs& values);

//! The reference's summed answer log-probs of every pair of `split`, in
//! evaluation batches of options.batch_size: the reference reads `weights`
//! (the map dpo_forward's reference_weights gives) as `args` with `ctx`.
RefLogprobs compute_ref_logprobs(const data::PreferenceSplit& split,
                                 const data::BatchOptions& options,
                                 const models::ModelArgs& args,
                                 const Params& weights,
                                 const nn::ForwardContext& ctx);

} // namespace mlxt::train
