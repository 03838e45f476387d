#include "mlxt/data/encoded_cache.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>

#include "mlxt/core/atomic_file.h"
#include "mlxt/core/error.h"
#include "mlxt/core/json_file.h"
#include "mlxt/core/sha256.h"

namespace mlxt::data {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Shards hold the host's integers as they are; every supported host is
// little-endian, as the layout says.
static_assert(std::endian::native == std::endian::little);

constexpr char kMagic[8] = {'M', 'L', 'X', 'T', 'E', 'N', 'C', '\0'};
constexpr size_t kKeyBytes = 64;
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8 + kKeyBytes;
constexpr const char* kManifest = "manifest.json";

size_t shard_bytes(size_t examples, size_t tokens) {
  return kHeaderBytes + 8 * (examples + 1) + 5 * tokens;
}

template <typename T>
void put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
T get(const std::string& in, size_t at) {
  T value;
  std::memcpy(&value, in.data() + at, sizeof(T));
  return value;
}

std::string serialize_shard(const std::vector<Example>& examples,
                            const std::string& key) {
  size_t tokens = 0;
  for (const Example& e : examples) {
    tokens += e.tokens.size();
  }
  std::string out;
  out.reserve(shard_bytes(examples.size(), tokens));
  out.append(kMagic, sizeof(kMagic));
  put<uint32_t>(out, kEncodedCacheVersion);
  put<uint32_t>(out, 0);
  put<uint64_t>(out, examples.size());
  put<uint64_t>(out, tokens);
  out.append(key);
  uint64_t offset = 0;
  put<uint64_t>(out, offset);
  for (const Example& e : examples) {
    offset += e.tokens.size();
    put<uint64_t>(out, offset);
  }
  for (const Example& e : examples) {
    out.append(reinterpret_cast<const char*>(e.tokens.data()),
               e.tokens.size() * sizeof(int32_t));
  }
  for (const Example& e : examples) {
    out.append(reinterpret_cast<const char*>(e.loss_mask.data()),
               e.loss_mask.size());
  }
  return out;
}

// Why the header `bytes` (at least kHeaderBytes of them) does not start a
// shard of `key` with `info`'s counts and `file_size` bytes; "" when it does.
std::string header_problem(const std::string& bytes,
                           size_t file_size,
                           const std::string& key,
                           const ShardInfo& info) {
  if (bytes.size() < kHeaderBytes ||
      std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return "not an encoded shard (bad magic)";
  }
  if (get<uint32_t>(bytes, 8) != kEncodedCacheVersion) {
    return "format version " + std::to_string(get<uint32_t>(bytes, 8)) +
           ", this build reads " + std::to_string(kEncodedCacheVersion);
  }
  if (bytes.compare(32, kKeyBytes, key) != 0) {
    return "written for another cache key";
  }
  const uint64_t n = get<uint64_t>(bytes, 16);
  const uint64_t t = get<uint64_t>(bytes, 24);
  if (n != info.examples || t != info.tokens ||
      file_size != shard_bytes(n, t)) {
    return "holds " + std::to_string(file_size) + " bytes, expected " +
           std::to_string(shard_bytes(info.examples, info.tokens)) +
           " (truncated or damaged)";
  }
  return "";
}

// The examples of a shard's bytes, or the reason they are not a valid shard
// of `key` with `info`'s counts.
std::vector<Example> parse_shard(const std::string& bytes,
                                 const std::string& key,
                                 const ShardInfo& info,
                                 std::string& problem) {
  problem = header_problem(bytes, bytes.size(), key, info);
  if (!problem.empty()) {
    return {};
  }
  const uint64_t n = info.examples;
  const uint64_t t = info.tokens;
  const size_t offsets_at = kHeaderBytes;
  const size_t tokens_at = offsets_at + 8 * (n + 1);
  const size_t mask_at = tokens_at + 4 * t;
  std::vector<Example> examples(n);
  uint64_t begin = get<uint64_t>(bytes, offsets_at);
  if (begin != 0) {
    problem = "the first offset is not 0";
    return {};
  }
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t end = get<uint64_t>(bytes, offsets_at + 8 * (i + 1));
    if (end < begin || end > t) {
      problem = "offset " + std::to_string(i + 1) + " is out of order";
      return {};
    }
    Example& e = examples[i];
    e.tokens.resize(end - begin);
    std::memcpy(e.tokens.data(),
                bytes.data() + tokens_at + 4 * begin,
                4 * (end - begin));
    e.loss_mask.assign(bytes.begin() + mask_at + begin,
                       bytes.begin() + mask_at + end);
    begin = end;
  }
  if (begin != t) {
    problem = "the offsets do not cover the tokens";
    return {};
  }
  return examples;
}

// The whole file, or its first `limit` bytes.
std::string read_bytes(const fs::path& file, size_t limit = SIZE_MAX) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    fail(ErrorCode::io, "cannot open the shard", {.file = file.string()});
  }
  if (limit == SIZE_MAX) {
    return {std::istreambuf_iterator<char>(in), {}};
  }
  std::string bytes(limit, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(limit));
  bytes.resize(static_cast<size_t>(in.gcount()));
  return bytes;
}

json summary_json(const EncodedSplit& s) {
  json problems = json::array();
  for (const ProblemAt& p : s.read.problems) {
    problems.push_back({{"file", p.file},
                        {"row", p.row},
                        {"line", p.line},
                        {"key", p.problem.key},
                        {"reason", p.problem.reason}});
  }
  return {{"source", s.source},
          {"format", format_name(s.format)},
          {"rows_read", s.summary.rows_read},
          {"kept", s.summary.kept},
          {"invalid", s.summary.invalid},
          {"truncated", s.summary.truncated},
          {"dropped_no_targets", s.summary.dropped_no_targets},
          {"invalid_by_reason", s.read.invalid_by_reason},
          {"problems", problems}};
}

EncodedSplit split_from_json(const json& j) {
  EncodedSplit s;
  s.source = j.at("source").get<std::string>();
  s.format = format_from_name(j.at("format").get<std::string>()).value();
  s.summary.rows_read = j.at("rows_read").get<size_t>();
  s.summary.kept = j.at("kept").get<size_t>();
  s.summary.invalid = j.at("invalid").get<size_t>();
  s.summary.truncated = j.at("truncated").get<size_t>();
  s.summary.dropped_no_targets = j.at("dropped_no_targets").get<size_t>();
  s.read.rows_read = s.summary.rows_read;
  s.read.kept = s.summary.rows_read - s.summary.invalid;
  s.read.invalid = s.summary.invalid;
  s.read.invalid_by_reason =
      j.at("invalid_by_reason").get<std::map<std::string, size_t>>();
  for (const json& p : j.at("problems")) {
    s.read.problems.push_back(
        {p.at("file").get<std::string>(),
         p.at("row").get<long>(),
         p.at("line").get<long>(),
         {p.at("key").get<std::string>(), p.at("reason").get<std::string>()}});
  }
  return s;
}

// The cache in `dir` when its manifest and every shard check out; else
// `problem` says what is wrong.
std::optional<CachedSplit> verify_cache(const fs::path& dir,
                                        const std::string& key,
                                        std::string& problem) {
  if (!fs::exists(dir / kManifest)) {
    problem = fs::exists(dir) ? "incomplete (no manifest)" : "not cached yet";
    return std::nullopt;
  }
  try {
    const json m = read_json_file(dir / kManifest, ErrorCode::invalid_data);
    if (m.value("version", 0) != kEncodedCacheVersion) {
      problem = "manifest version " + m.value("version", json()).dump() +
                ", this build writes " + std::to_string(kEncodedCacheVersion);
      return std::nullopt;
    }
    if (m.value("key", "") != key) {
      problem = "the manifest belongs to another key";
      return std::nullopt;
    }
    CachedSplit c;
    c.split = split_from_json(m.at("split"));
    c.key = key;
    c.dir = dir;
    for (const json& s : m.at("shards")) {
      ShardInfo info{s.at("file").get<std::string>(),
                     s.at("examples").get<size_t>(),
                     s.at("tokens").get<size_t>(),
                     s.at("sha256").get<std::string>()};
      const fs::path file = dir / info.file;
      if (!fs::is_regular_file(file)) {
        problem = info.file + " is missing";
        return std::nullopt;
      }
      const std::string header = header_problem(
          read_bytes(file, kHeaderBytes), fs::file_size(file), key, info);
      if (!header.empty()) {
        problem = info.file + ": " + header;
        return std::nullopt;
      }
      if (sha256_file_hex(file) != info.sha256) {
        problem = info.file + " does not match its digest (damaged)";
        return std::nullopt;
      }
      c.shards.push_back(std::move(info));
    }
    return c;
  } catch (const std::exception& e) {
    problem = std::string("unreadable manifest: ") + e.what();
    return std::nullopt;
  }
}

CachedSplit build_cache(const fs::path& file,
                        const tokenizer::Tokenizer& tok,
                        const EncodeOptions& encode,
                        const DataOptions& data,
                        const CacheOptions& cache,
                        const std::string& key,
                        const fs::path& dir) {
  // Built in a private folder and renamed into place, so runs sharing the
  // cache never see (or delete) each other's half-built folders.
  const fs::path temp = temp_path_for(dir);
  std::error_code ec;
  fs::remove_all(temp, ec);
  fs::create_directories(temp, ec);
  if (ec) {
    fail(ErrorCode::io,
         "cannot create the encoded-dataset cache folder: " + ec.message(),
         {.file = temp.string()});
  }
  CachedSplit c;
  c.key = key;
  c.dir = temp;
  std::vector<Example> pending;
  size_t pending_tokens = 0;
  auto flush = [&] {
    char name[32];
    std::snprintf(name, sizeof(name), "shard-%05zu.bin", c.shards.size());
    const std::string bytes = serialize_shard(pending, key);
    write_file_atomic(temp / name, bytes);
    c.shards.push_back(
        {name, pending.size(), pending_tokens, sha256_hex(bytes)});
    pending.clear();
    pending_tokens = 0;
  };
  try {
    c.split = encode_sft_split(file, tok, encode, data, [&](Example&& e) {
      pending_tokens += e.tokens.size();
      pending.push_back(std::move(e));
      if (pending_tokens >= cache.shard_tokens) {
        flush();
      }
    });
    if (!pending.empty()) {
      flush();
    }
  } catch (...) {
    fs::remove_all(temp, ec); // no half-built folder left behind
    throw;
  }
  json shards = json::array();
  for (const ShardInfo& s : c.shards) {
    shards.push_back({{"file", s.file},
                      {"examples", s.examples},
                      {"tokens", s.tokens},
                      {"sha256", s.sha256}});
  }
  const json manifest = {{"version", kEncodedCacheVersion},
                         {"key", key},
                         {"split", summary_json(c.split)},
                         {"shards", shards}};
  write_file_atomic(temp / kManifest, manifest.dump(2) + "\n");
  // Another run may have published this key meanwhile: keep its folder.
  std::string problem;
  if (auto theirs = verify_cache(dir, key, problem)) {
    fs::remove_all(temp, ec);
    return *theirs;
  }
  fs::remove_all(dir, ec); // the damaged or incomplete one
  fs::rename(temp, dir, ec);
  if (ec) {
    fs::remove_all(temp);
    fail(ErrorCode::io,
         "cannot move the encoded dataset into place: " + ec.message(),
         {.file = dir.string()});
  }
  fsync_dir(dir.parent_path());
  c.dir = dir;
  return c;
}

} // namespace

std::string tokenizer_digest(const fs::path& model) {
  if (fs::is_regular_file(model)) {
    return sha256_file_hex(model);
  }
  std::string all;
  for (const char* name : {"tokenizer.json",
                           "tokenizer_config.json",
                           "tokenizer.model",
                           "chat_template.jinja"}) {
    if (fs::is_regular_file(model / name)) {
      all += std::string(name) + ":" + sha256_file_hex(model / name) + "\n";
    }
  }
  return sha256_hex(all);
}

std::string encoded_cache_key(const fs::path& file,
                              const EncodeOptions& encode,
                              const DataOptions& data,
                              const CacheOptions& cache) {
  const json inputs = {{"version", kEncodedCacheVersion},
                       {"data", sha256_file_hex(file)},
                       {"kind", file_kind_name(file_kind(file))},
                       {"tokenizer", cache.tokenizer_digest},
                       {"mask_prompt", encode.mask_prompt},
                       {"all_assistant_turns", encode.all_assistant_turns},
                       {"max_seq_length", encode.max_seq_length},
                       {"format", data.format ? format_name(*data.format) : ""},
                       {"columns", data.columns},
                       {"skip_invalid", data.skip_invalid},
                       {"max_line_bytes", data.read.max_line_bytes},
                       {"text_key", data.read.text_key},
                       {"detect_rows", data.detect_rows},
                       {"shard_tokens", cache.shard_tokens}};
  return sha256_hex(inputs.dump());
}

CachedSplit open_encoded_split(const fs::path& file,
                               const tokenizer::Tokenizer& tok,
                               const EncodeOptions& encode,
                               const DataOptions& data,
                               const CacheOptions& cache) {
  const std::string key = encoded_cache_key(file, encode, data, cache);
  const fs::path dir = cache.root / key;
  std::string problem;
  if (auto cached = verify_cache(dir, key, problem)) {
    cached->reused = true;
    cached->split.source = file.string(); // the same bytes, maybe moved
    return *cached;
  }
  CachedSplit built = build_cache(file, tok, encode, data, cache, key, dir);
  built.rebuilt_because = problem;
  return built;
}

std::vector<Example> read_encoded_shard(const CachedSplit& split,
                                        size_t index) {
  const ShardInfo& info = split.shards.at(index);
  const fs::path file = split.dir / info.file;
  const std::string bytes = read_bytes(file);
  std::string problem;
  if (sha256_hex(bytes) != info.sha256) {
    problem = "changed since its manifest was written";
  }
  std::vector<Example> examples =
      problem.empty() ? parse_shard(bytes, split.key, info, problem)
                      : std::vector<Example>{};
  if (!problem.empty()) {
    fail(ErrorCode::invalid_data,
         "encoded-dataset shard: " + problem +
             "; delete the cache folder or rerun to rebuild it",
         {.file = file.string()});
  }
  return examples;
}

EncodedSplit read_encoded_examples(const CachedSplit& c) {
  EncodedSplit split = c.split;
  for (size_t i = 0; i < c.shards.size(); ++i) {
    for (Example& e : read_encoded_shard(c, i)) {
      split.examples.push_back(std::move(e));
    }
  }
  return split;
}

EncodedSplit load_encoded_split(const fs::path& file,
                                const tokenizer::Tokenizer& tok,
                                const EncodeOptions& encode,
                                const DataOptions& data,
                                const CacheOptions& cache) {
  return read_encoded_examples(
      open_encoded_split(file, tok, encode, data, cache));
}

} // namespace mlxt::data
