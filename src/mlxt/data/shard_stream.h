// Streaming batches over an encoded-dataset cache (encoded_cache.h): the
// trainer holds one shard's examples at a time, so memory is bounded by the
// shard size, not the dataset.
//
// Epoch e visits the shards in epoch_permutation(shards, seed, e) order.
// Inside a shard, batches are made as BatchSchedule (length-sorted) or
// PackedSchedule (packed rows) make them over that shard alone, and their
// order is shuffled per epoch from a seed derived from (seed, shard). A
// shard too small for one batch contributes none. The order is a pure
// function of the seed, so a StreamCursor (epoch, shard, batch) is all a
// checkpoint needs: resuming loads that one shard, it replays nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "mlxt/data/batching.h"
#include "mlxt/data/encoded_cache.h"
#include "mlxt/data/packing.h"

namespace mlxt::data {

//! Where the next batch of a ShardStream comes from.
struct StreamCursor {
  long epoch = 0;
  long shard = 0; // position in the epoch's shard order
  long batch = 0; // batches of that shard already taken

  bool operator==(const StreamCursor&) const = default;
};

class ShardStream {
public:
  //! Throws Error(invalid_data) when no shard holds enough examples (or
  //! packed rows) for one batch.
  ShardStream(CachedSplit split,
              const BatchOptions& options,
              uint64_t seed,
              bool packed);

  //! The next batch (make_batch or make_packed_batch); advances the cursor.
  Batch next();
  const StreamCursor& cursor() const { return cursor_; }
  //! Continues from a cursor this stream (same cache, options, seed) gave.
  void seek(const StreamCursor& cursor);
  //! Shards read from disk so far (a seek reads one, a replay would read
  //! many).
  long shards_loaded() const { return shards_loaded_; }

private:
  // Loads the shard at cursor_.shard of cursor_.epoch's order.
  void load();

  CachedSplit split_;
  BatchOptions options_;
  uint64_t seed_;
  bool packed_;
  StreamCursor cursor_;
  long shards_loaded_ = 0;
  std::vector<size_t> order_; // shard order of cursor_.epoch
  long order_epoch_ = -1;
  // The loaded shard and its schedule (which points into examples_).
  std::optional<StreamCursor> loaded_;
  std::vector<Example> examples_;
  std::unique_ptr<BatchSchedule> schedule_;
  std::unique_ptr<PackedSchedule> packed_schedule_;
  long batches_in_shard_ = 0;
};

} // namespace mlxt::data
