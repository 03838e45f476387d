// Batches: encoded examples grouped by length, padded, and turned into
// (inputs, targets, mask) arrays for the training step.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <mlx/mlx.h>

#include "mlxt/data/example.h"

namespace mlxt::data {

namespace mx = mlx::core;

struct Batch {
  mx::array inputs;       // (B, T) int32: tokens[:, :-1], padded with 0
  mx::array targets;      // (B, T) int32: tokens[:, 1:]
  mx::array mask;         // (B, T) float32: 1 where targets[b, t] is trained
  long target_tokens = 0; // sum of mask
  long input_tokens = 0;  // non-padding positions of inputs
  //! Packed batches only (packing.h): (B, 1, T, T) bool attention mask that
  //! keeps each document to itself, and (B, T) int32 per-document positions.
  std::optional<mx::array> attention_mask;
  std::optional<mx::array> positions;
};

//! The padding multiple for MLX's default device: 128 on a GPU, where MLX's
//! fused cuDNN attention backward takes only sequence lengths in multiples
//! of 128 (other lengths fall back to unfused attention), else 32.
int default_pad_multiple();

struct BatchOptions {
  int batch_size = 4;
  int pad_multiple = 32; // T is rounded up to this (bounded by max_len - 1)
  int max_seq_length = 2048;
};

//! Builds the batch of `examples` (shorter rows padded; padding never a
//! target).
Batch make_batch(const std::vector<const Example*>& examples,
                 const BatchOptions& options);

//! The batch order of one epoch: a permutation of 0..n-1 that is a pure
//! function of (seed, epoch), so resuming needs only the batch counter.
std::vector<size_t> epoch_permutation(size_t n, uint64_t seed, long epoch);

//! Deterministic epoch-by-epoch batch order: examples are sorted by length
//! and cut into consecutive batches of batch_size (so a batch wastes little
//! on padding), and the batch order is shuffled per epoch from the seed.
//! Leftover examples that do not fill a batch are skipped in that epoch.
class BatchSchedule {
public:
  BatchSchedule(const std::vector<Example>& examples,
                const BatchOptions& options,
                uint64_t seed);

  //! The examples of the n-th batch of the whole run (epochs chained).
  std::vector<const Example*> batch(long n) const;
  long batches_per_epoch() const { return static_cast<long>(batches_.size()); }

private:
  const std::vector<Example>& examples_;
  std::vector<std::vector<size_t>> batches_; // indices, in length order
  uint64_t seed_;
};

} // namespace mlxt::data
