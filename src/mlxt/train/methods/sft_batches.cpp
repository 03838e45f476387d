#include "mlxt/train/methods/sft_batches.h"

#include "mlxt/core/error.h"
#include "mlxt/data/dataset.h"

namespace mlxt::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The encoded-dataset cache of a run, or nullopt for `data_cache: none`.
std::optional<data::CacheOptions>
data_cache_options(const config::TrainConfig& c) {
  if (c.data_cache == "none") {
    return std::nullopt;
  }
  return data::CacheOptions{
      .root = c.data_cache.empty() ? fs::path(c.runs_dir) / ".cache/encoded"
                                   : fs::path(c.data_cache),
      .tokenizer_digest = data::tokenizer_digest(c.model),
      .shard_tokens = static_cast<size_t>(c.data_shard_tokens)};
}

} // namespace

SftData load_sft_data(const config::TrainConfig& c,
                      const tokenizer::Tokenizer& tok) {
  const data::EncodeOptions encode{.mask_prompt = c.mask_prompt,
                                   .max_seq_length = c.max_seq_length};
  const std::optional<data::CacheOptions> cache = data_cache_options(c);
  if (c.streaming && !cache) {
    fail(ErrorCode::invalid_config,
         "streaming reads the encoded-dataset cache; set data_cache to a "
         "folder (or leave it empty), not none",
         {.key = "streaming"});
  }
  SftData out;
  auto load_split = [&](const fs::path& file, const std::string& name) {
    if (!cache) {
      return data::load_sft_split(file, tok, encode);
    }
    data::CachedSplit split =
        data::open_encoded_split(file, tok, encode, {}, *cache);
    out.cache_records.push_back({{"event", "data_cache"},
                                 {"split", name},
                                 {"path", split.dir.string()},
                                 {"reused", split.reused},
                                 {"rebuilt_because", split.rebuilt_because},
                                 {"shards", split.shards.size()}});
    if (c.streaming && name == "train") {
      out.streamed_train = split;
      return split.split; // summaries only
    }
    return data::read_encoded_examples(split);
  };
  const data::SplitFiles files = data::find_splits(c.data);
  out.dataset.train = load_split(files.train, "train");
  if (files.valid) {
    out.dataset.valid = load_split(*files.valid, "valid");
  }
  if (files.test) {
    out.dataset.test = load_split(*files.test, "test");
  }
  return out;
}

SftBatches::SftBatches(const SftData& data,
                       const data::BatchOptions& options,
                       uint64_t seed,
                       bool packed)
    : options_(options), packed_(packed) {
  if (data.streamed_train) {
    stream_.emplace(*data.streamed_train, options, seed, packed);
  } else if (packed) {
    packed_schedule_.emplace(data.dataset.train.examples, options, seed);
  } else {
    schedule_.emplace(data.dataset.train.examples, options, seed);
  }
}

data::Batch SftBatches::batch(long index) {
  if (stream_) {
    return stream_->next();
  }
  return packed_
             ? data::make_packed_batch(packed_schedule_->batch(index), options_)
             : data::make_batch(schedule_->batch(index), options_);
}

json SftBatches::cursor() const {
  if (!stream_) {
    return json::object();
  }
  const data::StreamCursor& at = stream_->cursor();
  return {{"stream_cursor",
           {{"epoch", at.epoch}, {"shard", at.shard}, {"batch", at.batch}}}};
}

void SftBatches::seek(long index, const json& cursor) {
  if (!stream_) {
    return; // batch(index) needs no position
  }
  if (!cursor.contains("stream_cursor")) {
    if (index > 0) {
      fail(ErrorCode::invalid_checkpoint,
           "was written by a run without streaming; resume it with "
           "streaming: false",
           {.key = "streaming"});
    }
    return;
  }
  const json& at = cursor.at("stream_cursor");
  stream_->seek(data::StreamCursor{at.at("epoch").get<long>(),
                                   at.at("shard").get<long>(),
                                   at.at("batch").get<long>()});
}

} // namespace mlxt::train
