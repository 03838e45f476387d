// SFT's data as the loop consumes it: the encoded splits (through the
// encoded-dataset cache unless `data_cache: none`), and the training
// batches in one of three modes: length-sorted rows or packed rows from
// memory, or either shard by shard (`streaming: true`).
#pragma once

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/config/config.h"
#include "mlxt/data/batching.h"
#include "mlxt/data/encoded_cache.h"
#include "mlxt/data/packing.h"
#include "mlxt/data/sft_data.h"
#include "mlxt/data/shard_stream.h"
#include "mlxt/tokenizer/tokenizer.h"

namespace mlxt::train {

struct SftData {
  //! Every split; when streaming, the train split holds summaries only.
  data::EncodedDataset dataset;
  //! Streaming: the cached train split, read one shard at a time.
  std::optional<data::CachedSplit> streamed_train;
  //! One "data_cache" record per split read through the cache.
  std::vector<nlohmann::json> cache_records;
};

//! Encodes (or reuses the cache of) every split of config.data. Throws
//! Error(invalid_config) for streaming without a cache.
SftData load_sft_data(const config::TrainConfig& config,
                      const tokenizer::Tokenizer& tok);

class SftBatches {
public:
  //! `data` must outlive this (batches point into its examples).
  SftBatches(const SftData& data,
             const data::BatchOptions& options,
             uint64_t seed,
             bool packed);

  //! The run's batch number `index`; streaming reads them in order only.
  data::Batch batch(long index);
  //! {"stream_cursor": ...} when streaming, else {} (the index says all).
  nlohmann::json cursor() const;
  //! Continues after `index` batches, from a cursor() of the same data.
  void seek(long index, const nlohmann::json& cursor);

private:
  data::BatchOptions options_;
  bool packed_;
  std::optional<data::BatchSchedule> schedule_;
  std::optional<data::PackedSchedule> packed_schedule_;
  std::optional<data::ShardStream> stream_;
};

} // namespace mlxt::train
