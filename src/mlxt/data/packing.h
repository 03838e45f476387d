// Sequence packing: several examples share one row of a batch, and attention
// never crosses a document boundary. Each row carries segment ids (which
// document a position belongs to); the batch turns them into a block-
// diagonal causal mask for attention, and RoPE positions restart at 0 for
// each document, so a packed document sees exactly what it would see alone.
#pragma once

#include <cstdint>
#include <vector>

#include "mlxt/data/batching.h"
#include "mlxt/data/example.h"

namespace mlxt::data {

//! Groups examples into rows of at most `capacity` positions (an example of
//! n tokens takes n - 1: its inputs), first fit over the examples sorted
//! longest first; ties keep dataset order, so packing is deterministic.
//! Examples must fit (truncate to capacity + 1 tokens first).
std::vector<std::vector<size_t>>
pack_examples(const std::vector<Example>& examples, int capacity);

//! The batch of packed rows: inputs/targets/mask as make_batch, plus
//! attention_mask (B, 1, T, T) bool and positions (B, T) int32. Padding is
//! its own segment, never a target.
Batch make_packed_batch(const std::vector<std::vector<const Example*>>& rows,
                        const BatchOptions& options);

//! Like BatchSchedule, over packed rows: rows are packed once, ordered by
//! fill, cut into batches of batch_size rows, and the batch order is
//! shuffled per epoch from the seed (a pure function of the batch number,
//! so resuming needs only the counter).
class PackedSchedule {
public:
  PackedSchedule(const std::vector<Example>& examples,
                 const BatchOptions& options,
                 uint64_t seed);

  //! The packed rows of the n-th batch of the whole run (epochs chained).
  std::vector<std::vector<const Example*>> batch(long n) const;
  long batches_per_epoch() const { return static_cast<long>(batches_.size()); }

private:
  const std::vector<Example>& examples_;
  std::vector<std::vector<std::vector<size_t>>> batches_;
  uint64_t seed_;
};

} // namespace mlxt::data
