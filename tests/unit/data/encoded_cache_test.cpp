// The encoded-dataset cache (data/encoded_cache.h): cached examples equal
// fresh ones, an unchanged input is reused without tokenizing, every input
// change gives another key, and damaged shards are rebuilt, never read.
// The shard stream over it (data/shard_stream.h): every example once per
// epoch, and a seek to a saved cursor continues as the unbroken stream.
#include <fstream>

#include <nlohmann/json.hpp>

#include "mlxt/core/sha256.h"
#include "mlxt/data/encoded_cache.h"
#include "mlxt/data/shard_stream.h"
#include "support/test_support.h"

namespace {

using namespace mlxt::testing;
using namespace mlxt::data;
namespace fs = std::filesystem;
using nlohmann::json;

std::string chat_row(int i) {
  const std::string word = "word" + std::to_string(i * 7 % 23);
  json messages = {{{"role", "user"}, {"content", "Repeat " + word}},
                   {{"role", "assistant"}, {"content", word + " " + word}}};
  if (i % 3 == 0) { // some multi-turn rows, for all_assistant_turns
    messages.push_back({{"role", "user"}, {"content", "Again"}});
    messages.push_back({{"role", "assistant"}, {"content", word}});
  }
  return json{{"messages", messages}}.dump() + "\n";
}

class EncodedCache : public ::testing::Test {
protected:
  void SetUp() override {
    std::vector<std::string> corpus;
    std::string data;
    for (int i = 0; i < 40; ++i) {
      data += chat_row(i);
      corpus.push_back(chat_row(i));
    }
    write_file(dir_ / "data/train.jsonl", data);
    mlxt::tokenizer::BpeTrainOptions options;
    options.vocab_size = 320;
    options.special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    auto [tokenizer_json, config] =
        mlxt::tokenizer::train_byte_level_bpe(corpus, options);
    write_file(dir_ / "model/tokenizer.json", tokenizer_json.dump());
    write_file(dir_ / "model/tokenizer_config.json", config.dump());
    tok_.emplace(mlxt::tokenizer::Tokenizer::load(dir_ / "model"));
    encode_ = {.mask_prompt = true, .max_seq_length = 40};
  }

  CacheOptions cache() const {
    return {.root = dir_ / "cache",
            .tokenizer_digest = tokenizer_digest(dir_ / "model"),
            .shard_tokens = 200}; // several shards from 40 rows
  }

  CachedSplit open() {
    return open_encoded_split(train(), *tok_, encode_, data_, cache());
  }

  fs::path train() const { return dir_ / "data/train.jsonl"; }

  TempDir dir_;
  std::optional<mlxt::tokenizer::Tokenizer> tok_;
  EncodeOptions encode_;
  DataOptions data_;
};

void expect_same_examples(const std::vector<Example>& a,
                          const std::vector<Example>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].tokens, b[i].tokens) << "example " << i;
    EXPECT_EQ(a[i].loss_mask, b[i].loss_mask) << "example " << i;
  }
}

TEST_F(EncodedCache, CachedExamplesEqualAFreshEncoding) {
  encode_.max_seq_length = 16; // some rows cut
  const EncodedSplit fresh = load_sft_split(train(), *tok_, encode_, data_);
  for (int pass = 0; pass < 2; ++pass) { // built, then reused
    const EncodedSplit cached =
        load_encoded_split(train(), *tok_, encode_, data_, cache());
    expect_same_examples(cached.examples, fresh.examples);
    EXPECT_EQ(cached.summary.kept, fresh.summary.kept);
    EXPECT_EQ(cached.summary.truncated, fresh.summary.truncated);
    EXPECT_GT(cached.summary.truncated, 0u);
    EXPECT_EQ(cached.summary.rows_read, 40u);
    EXPECT_EQ(cached.format, Format::messages);
  }
}

TEST_F(EncodedCache, AnUnchangedInputIsReusedWithoutTokenizing) {
  const CachedSplit first = open();
  EXPECT_FALSE(first.reused);
  EXPECT_EQ(first.rebuilt_because, "not cached yet");
  EXPECT_GT(first.shards.size(), 2u);
  EXPECT_TRUE(fs::exists(first.dir / "manifest.json"));

  // Reuse must not read the data: the same bytes elsewhere (a different
  // path) hit the same cache, and a tokenizer that would encode otherwise
  // is never asked.
  fs::copy_file(train(), dir_ / "copy.jsonl");
  auto [other_json, other_config] = mlxt::tokenizer::train_byte_level_bpe(
      {"completely different corpus"}, {.vocab_size = 260});
  auto other =
      mlxt::tokenizer::Tokenizer::from_json(other_json, other_config, "other");
  const CachedSplit second =
      open_encoded_split(dir_ / "copy.jsonl", other, encode_, data_, cache());
  EXPECT_TRUE(second.reused);
  EXPECT_EQ(second.rebuilt_because, "");
  EXPECT_EQ(second.key, first.key);
  EXPECT_EQ(second.split.source, (dir_ / "copy.jsonl").string());
  for (size_t i = 0; i < first.shards.size(); ++i) {
    expect_same_examples(read_encoded_shard(second, i),
                         read_encoded_shard(first, i));
  }
}

TEST_F(EncodedCache, EveryInputChangeGivesAnotherKey) {
  const std::string base = open().key;
  std::set<std::string> keys = {base};
  auto expect_new = [&](const std::string& what) {
    const CachedSplit c = open();
    EXPECT_FALSE(c.reused) << what;
    EXPECT_EQ(c.rebuilt_because, "not cached yet") << what;
    EXPECT_TRUE(keys.insert(c.key).second) << what << " reused a key";
  };
  encode_.mask_prompt = false;
  expect_new("mask_prompt");
  encode_.all_assistant_turns = true;
  expect_new("all_assistant_turns");
  encode_.max_seq_length = 64;
  expect_new("max_seq_length");
  data_.format = Format::messages;
  expect_new("format");
  data_.columns["messages"] = "messages";
  expect_new("columns");
  data_.skip_invalid = true;
  expect_new("skip_invalid");

  // The tokenizer: a changed chat template in tokenizer_config.json, then
  // a chat_template.jinja next to it.
  json config = json::parse(read_file(dir_ / "model/tokenizer_config.json"));
  config["chat_template"] = config["chat_template"].get<std::string>() + " ";
  write_file(dir_ / "model/tokenizer_config.json", config.dump());
  expect_new("tokenizer_config.json");
  write_file(dir_ / "model/chat_template.jinja", "{{ messages }}");
  expect_new("chat_template.jinja");
  fs::remove(dir_ / "model/chat_template.jinja");

  // The data: one more row.
  std::ofstream(train(), std::ios::app) << chat_row(99);
  const CachedSplit grown = open();
  EXPECT_FALSE(grown.reused);
  EXPECT_TRUE(keys.insert(grown.key).second);
  EXPECT_EQ(grown.split.summary.rows_read, 41u);
}

TEST_F(EncodedCache, DamagedCachesAreRebuiltNotRead) {
  const CachedSplit good = open();
  const fs::path shard = good.dir / good.shards[1].file;
  const std::string bytes = read_file(shard);
  const std::vector<Example> expected = read_encoded_shard(good, 1);

  auto expect_rebuilt = [&](const std::string& reason) {
    const CachedSplit c = open();
    EXPECT_FALSE(c.reused);
    EXPECT_NE(c.rebuilt_because.find(reason), std::string::npos)
        << c.rebuilt_because;
    expect_same_examples(read_encoded_shard(c, 1), expected);
    EXPECT_TRUE(open().reused);
  };

  write_file(shard, bytes.substr(0, bytes.size() - 3)); // truncated
  expect_rebuilt("shard-00001.bin: holds");
  std::string flipped = bytes; // one bit of a token id
  flipped[bytes.size() / 2] ^= 1;
  write_file(shard, flipped);
  expect_rebuilt("does not match its digest");
  fs::remove(shard);
  expect_rebuilt("shard-00001.bin is missing");
  fs::remove(good.dir / "manifest.json"); // an interrupted build
  expect_rebuilt("incomplete (no manifest)");

  // A shard of another format version whose digest was updated to match
  // still fails on its header.
  std::string other_version = bytes;
  other_version[8] = 9;
  write_file(shard, other_version);
  json manifest = json::parse(read_file(good.dir / "manifest.json"));
  manifest["shards"][1]["sha256"] = mlxt::sha256_hex(other_version);
  write_file(good.dir / "manifest.json", manifest.dump());
  expect_rebuilt("format version 9, this build reads 1");
  manifest = json::parse(read_file(good.dir / "manifest.json"));
  manifest["version"] = 0;
  write_file(good.dir / "manifest.json", manifest.dump());
  expect_rebuilt("manifest version 0");
  write_file(good.dir / "manifest.json", "{not json");
  expect_rebuilt("unreadable manifest");
}

TEST_F(EncodedCache, AShardChangedAfterOpeningIsAnErrorNotData) {
  const CachedSplit c = open();
  const fs::path shard = c.dir / c.shards[0].file;
  std::string bytes = read_file(shard);
  bytes[bytes.size() - 1] ^= 1;
  write_file(shard, bytes);
  EXPECT_MLXT_ERROR(read_encoded_shard(c, 0),
                    invalid_data,
                    "changed since its manifest was written");
}

TEST_F(EncodedCache, AnInvalidRowCachesNothing) {
  std::ofstream(train(), std::ios::app) << "{\"messages\": 3}\n";
  EXPECT_MLXT_ERROR(open(), invalid_data, "messages");
  EXPECT_TRUE(fs::is_empty(dir_ / "cache")); // no half-built folder
  data_.skip_invalid = true;
  const CachedSplit c = open();
  EXPECT_EQ(c.split.summary.invalid, 1u);
  EXPECT_EQ(c.split.read.problems.size(), 1u);
  const CachedSplit again = open();
  EXPECT_TRUE(again.reused);
  EXPECT_EQ(again.split.read.problems.at(0).line, 41);
  EXPECT_EQ(again.split.read.invalid_by_reason, c.split.read.invalid_by_reason);
}

std::vector<int32_t> ints(const mlx::core::array& a) {
  mlx::core::array c = mlx::core::astype(a, mlx::core::int32);
  c.eval();
  return {c.data<int32_t>(), c.data<int32_t>() + c.size()};
}

TEST_F(EncodedCache, StreamGivesEveryShardsBatchesOncePerEpoch) {
  encode_.mask_prompt = false; // every row kept
  const CachedSplit c = open();
  ASSERT_GT(c.shards.size(), 2u);
  long expected = 0; // full batches of 3 in each shard
  for (const ShardInfo& s : c.shards) {
    expected += static_cast<long>(s.examples / 3);
  }
  const BatchOptions options{.batch_size = 3, .max_seq_length = 40};
  ShardStream stream(c, options, 7, false);
  std::multiset<std::vector<int32_t>> epochs[2];
  std::vector<std::vector<int32_t>> firsts[2];
  long batches[2] = {0, 0};
  for (;;) {
    Batch b = stream.next();
    const long e = stream.cursor().epoch; // the epoch of this batch
    if (e == 2) {
      break;
    }
    ++batches[e];
    const std::vector<int32_t> inputs = ints(b.inputs);
    const std::vector<int32_t> mask = ints(b.mask);
    const int T = b.inputs.shape(1);
    for (int row = 0; row < 3; ++row) {
      // Without prompt masking every input is a target's context: the
      // mask's length is the example's, whatever the batch's padding.
      const auto begin = inputs.begin() + row * T;
      const long n =
          std::count(mask.begin() + row * T, mask.begin() + (row + 1) * T, 1);
      epochs[e].insert(std::vector<int32_t>(begin, begin + n));
    }
    firsts[e].push_back(inputs);
  }
  EXPECT_EQ(batches[0], expected);
  EXPECT_EQ(batches[1], expected);
  EXPECT_EQ(epochs[0], epochs[1]); // the same examples each epoch...
  EXPECT_NE(firsts[0], firsts[1]); // ...in another order
}

TEST_F(EncodedCache, StreamSeekContinuesAsTheUnbrokenStream) {
  for (bool packed : {false, true}) {
    const CachedSplit c = open();
    const BatchOptions options{.batch_size = 2, .max_seq_length = 40};
    ShardStream whole(c, options, 3, packed);
    std::vector<StreamCursor> cursors;
    std::vector<std::vector<int32_t>> targets;
    for (int i = 0; i < 40; ++i) { // more than one epoch
      Batch b = whole.next();
      EXPECT_EQ(b.attention_mask.has_value(), packed);
      targets.push_back(ints(b.targets));
      cursors.push_back(whole.cursor());
    }
    EXPECT_GT(cursors.back().epoch, 0);
    for (int at : {0, 7, 23}) {
      ShardStream resumed(c, options, 3, packed);
      resumed.seek(cursors[at]);
      for (int i = at + 1; i < 40; ++i) {
        EXPECT_EQ(ints(resumed.next().targets), targets[i])
            << "packed " << packed << ", resumed after " << at << ", batch "
            << i;
        EXPECT_EQ(resumed.cursor(), cursors[i]);
        if (i == at + 1) { // one shard read (two at a shard's end)
          EXPECT_LE(resumed.shards_loaded(), 2);
        }
      }
    }
  }
}

TEST_F(EncodedCache, StreamRefusesShardsTooSmallForABatch) {
  const CachedSplit c = open();
  ShardStream stream(c, {.batch_size = 64, .max_seq_length = 40}, 0, false);
  EXPECT_MLXT_ERROR(stream.next(), invalid_data, "enough examples");
  EXPECT_MLXT_ERROR(stream.seek({.epoch = 0, .shard = 99}),
                    invalid_checkpoint,
                    "does not fit");
}

} // namespace
