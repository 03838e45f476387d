// The encoded-dataset cache: a split's examples (token ids + loss masks)
// stored as binary shards, so a run whose inputs did not change skips
// reading, validating and tokenizing, and a streaming reader holds one shard
// at a time.
//
// A split's cache is the folder <root>/<key>/, key = SHA-256 over
//   - the split file's bytes (content, not size + mtime + path: a copied or
//     touched file still hits, an edit that keeps the size within one mtime
//     tick still misses; hashing runs near 1 GB/s, far above tokenizing) and
//     its kind (the extension picks the reader),
//   - the tokenizer (tokenizer_digest: tokenizer.json, tokenizer_config.json
//     with its chat template, tokenizer.model, chat_template.jinja),
//   - the encoding settings (max_seq_length, mask_prompt,
//     all_assistant_turns), the read settings (format, column map,
//     skip_invalid, line limit, text key), the shard size, and
//     kEncodedCacheVersion (bumped whenever encoding or layout changes).
// The folder holds shard-NNNNN.bin files and manifest.json, the manifest
// written last (a folder without one is incomplete); it is built under a
// private name and renamed into place, so runs sharing a cache never see a
// half-built folder. The
// manifest records every shard's counts and SHA-256; a missing, truncated,
// corrupt or other-version shard makes open_encoded_split rebuild the
// folder, so cached bytes are never trained on unverified.
//
// Shard layout (little-endian): "MLXTENC\0", u32 version, u32 0,
// u64 examples n, u64 tokens t, char[64] key (hex), u64 offsets[n + 1]
// (offsets[0] = 0, offsets[n] = t), i32 tokens[t], u8 loss_mask[t].
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "mlxt/data/sft_data.h"

namespace mlxt::data {

inline constexpr int kEncodedCacheVersion = 1;

struct CacheOptions {
  std::filesystem::path root;   // one <key>/ folder per split under it
  std::string tokenizer_digest; // tokenizer_digest(model)
  //! Tokens per shard (a shard ends after the example that reaches it): the
  //! memory a streaming reader needs.
  size_t shard_tokens = size_t(1) << 24;
};

struct ShardInfo {
  std::string file; // name inside the cache folder
  size_t examples = 0;
  size_t tokens = 0;
  std::string sha256; // of the whole file
};

struct CachedSplit {
  EncodedSplit split; // source, format and summaries; no examples
  std::string key;
  std::filesystem::path dir;
  std::vector<ShardInfo> shards;
  bool reused = false;         // nothing was read or tokenized
  std::string rebuilt_because; // why it was (re)built; "" when reused
};

//! Digest of the tokenizer files of a model folder (absent files skipped),
//! or of the whole file for a .gguf model (its tokenizer lives inside).
std::string tokenizer_digest(const std::filesystem::path& model);

//! The cache key of `file` encoded with these settings.
std::string encoded_cache_key(const std::filesystem::path& file,
                              const EncodeOptions& encode,
                              const DataOptions& data,
                              const CacheOptions& cache);

//! The verified cache of `file`, built first (streaming, one shard in
//! memory) when it is absent, incomplete, damaged or of another version.
//! Encoding errors as load_sft_split; Error(io) when the folder cannot be
//! written.
CachedSplit open_encoded_split(const std::filesystem::path& file,
                               const tokenizer::Tokenizer& tok,
                               const EncodeOptions& encode,
                               const DataOptions& data,
                               const CacheOptions& cache);

//! The examples of shard `index`, checked against the manifest's digest.
//! Error(invalid_data) naming the file when it changed since it was
//! written.
std::vector<Example> read_encoded_shard(const CachedSplit& split, size_t index);

//! The split with the examples of every shard (read_encoded_shard).
EncodedSplit read_encoded_examples(const CachedSplit& split);

//! open_encoded_split with every shard read: the EncodedSplit that
//! load_sft_split would return.
EncodedSplit load_encoded_split(const std::filesystem::path& file,
                                const tokenizer::Tokenizer& tok,
                                const EncodeOptions& encode,
                                const DataOptions& data,
                                const CacheOptions& cache);

} // namespace mlxt::data
