#include "mlxt/data/shard_stream.h"

#include "mlxt/core/error.h"

namespace mlxt::data {

ShardStream::ShardStream(CachedSplit split,
                         const BatchOptions& options,
                         uint64_t seed,
                         bool packed)
    : split_(std::move(split)), options_(options), seed_(seed),
      packed_(packed) {}

void ShardStream::load() {
  if (order_epoch_ != cursor_.epoch) {
    order_ = epoch_permutation(split_.shards.size(), seed_, cursor_.epoch);
    order_epoch_ = cursor_.epoch;
  }
  const size_t index = order_.at(cursor_.shard);
  schedule_.reset();
  packed_schedule_.reset();
  examples_ = read_encoded_shard(split_, index);
  ++shards_loaded_;
  loaded_ = cursor_;
  batches_in_shard_ = 0;
  // Each shard shuffles its batches with its own seed.
  const uint64_t shard_seed = seed_ * 0x9E3779B97F4A7C15ULL + index + 1;
  if (examples_.size() < static_cast<size_t>(options_.batch_size)) {
    return; // too small for one batch
  }
  if (!packed_) {
    schedule_ =
        std::make_unique<BatchSchedule>(examples_, options_, shard_seed);
    batches_in_shard_ = schedule_->batches_per_epoch();
    return;
  }
  try {
    packed_schedule_ =
        std::make_unique<PackedSchedule>(examples_, options_, shard_seed);
    batches_in_shard_ = packed_schedule_->batches_per_epoch();
  } catch (const Error&) {
    // Fewer packed rows than batch_size: this shard gives no batch.
  }
}

Batch ShardStream::next() {
  const long shards = static_cast<long>(split_.shards.size());
  long empty = 0;
  for (;;) {
    if (!loaded_ || loaded_->epoch != cursor_.epoch ||
        loaded_->shard != cursor_.shard) {
      load();
    }
    if (cursor_.batch < batches_in_shard_) {
      // The shard's schedule shuffles its batches per epoch.
      const long n = cursor_.epoch * batches_in_shard_ + cursor_.batch++;
      return packed_ ? make_packed_batch(packed_schedule_->batch(n), options_)
                     : make_batch(schedule_->batch(n), options_);
    }
    if (batches_in_shard_ == 0 && ++empty > shards) {
      fail(ErrorCode::invalid_data,
           "no shard of the encoded dataset holds enough examples for one "
           "batch of " +
               std::to_string(options_.batch_size) +
               " (lower batch_size, or raise data_shard_tokens)",
           {.file = split_.dir.string(), .key = "batch_size"});
    }
    cursor_.batch = 0;
    if (++cursor_.shard == shards) {
      cursor_.shard = 0;
      ++cursor_.epoch;
    }
  }
}

void ShardStream::seek(const StreamCursor& cursor) {
  if (cursor.shard < 0 ||
      cursor.shard >= static_cast<long>(split_.shards.size()) ||
      cursor.epoch < 0 || cursor.batch < 0) {
    fail(ErrorCode::invalid_checkpoint,
         "the data cursor (epoch " + std::to_string(cursor.epoch) + ", shard " +
             std::to_string(cursor.shard) + ", batch " +
             std::to_string(cursor.batch) +
             ") does not fit this encoded dataset",
         {.key = "stream_cursor"});
  }
  cursor_ = cursor;
  loaded_.reset();
}

} // namespace mlxt::data
