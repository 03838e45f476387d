#include "mlxt/train/methods/dpo_ref_cache.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "mlxt/core/atomic_file.h"
#include "mlxt/core/sha256.h"
#include "mlxt/data/encoded_cache.h"
#include "mlxt/train/methods/dpo_reference.h"

namespace mlxt::train {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'M', 'L', 'X', 'T', 'R', 'E', 'F', '\0'};
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 64;

template <class T>
void put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

} // namespace

std::optional<fs::path> ref_cache_root(const config::TrainConfig& c) {
  if (c.data_cache == "none") {
    return std::nullopt;
  }
  return (c.data_cache.empty() ? fs::path(c.runs_dir) / ".cache"
                               : fs::path(c.data_cache)) /
         "ref_logprobs";
}

std::string ref_cache_key(const config::TrainConfig& c, const fs::path& file) {
  const nlohmann::json inputs = {{"version", kRefCacheVersion},
                                 {"data", sha256_file_hex(file)},
                                 {"tokenizer", data::tokenizer_digest(c.model)},
                                 {"max_seq_length", c.max_seq_length},
                                 {"reference", reference_identity(c)}};
  return sha256_hex(inputs.dump());
}

std::optional<RefLogprobs>
read_ref_logprobs(const fs::path& file, const std::string& key, size_t pairs) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  if (bytes.size() != kHeaderBytes + 2 * pairs * sizeof(float) ||
      std::memcmp(bytes.data(), kMagic, 8) != 0) {
    return std::nullopt;
  }
  uint32_t version = 0;
  uint64_t n = 0;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&n, bytes.data() + 16, 8);
  if (version != kRefCacheVersion || n != pairs ||
      bytes.compare(24, 64, key) != 0) {
    return std::nullopt;
  }
  RefLogprobs values{std::vector<float>(pairs), std::vector<float>(pairs)};
  const char* data = bytes.data() + kHeaderBytes;
  std::memcpy(values.chosen.data(), data, pairs * sizeof(float));
  std::memcpy(values.rejected.data(),
              data + pairs * sizeof(float),
              pairs * sizeof(float));
  return values;
}

void write_ref_logprobs(const fs::path& file,
                        const std::string& key,
                        const RefLogprobs& values) {
  std::string bytes(kMagic, 8);
  put(bytes, static_cast<uint32_t>(kRefCacheVersion));
  put(bytes, static_cast<uint32_t>(0));
  put(bytes, static_cast<uint64_t>(values.chosen.size()));
  bytes += key;
  for (const auto* side : {&values.chosen, &values.rejected}) {
    bytes.append(reinterpret_cast<const char*>(side->data()),
                 side->size() * sizeof(float));
  }
  fs::create_directories(file.parent_path());
  write_file_atomic(file, bytes);
}

RefLogprobs compute_ref_logprobs(const data::PreferenceSplit& split,
                                 const data::BatchOptions& options,
                                 const models::ModelArgs& args,
                                 const Params& weights,
                                 const nn::ForwardContext& ctx) {
  RefLogprobs out;
  const size_t n = split.pairs.size();
  for (size_t first = 0; first < n; first += options.batch_size) {
    PairRefs pairs;
    for (size_t i = first; i < std::min(n, first + options.batch_size); ++i) {
      pairs.push_back(&split.pairs[i]);
    }
    const MethodBatch batch = pair_batch(split, pairs, options);
    const JoinedPairs rows = join_pairs(batch.arrays);
    // (2B,) chosen rows first.
    mx::array lp =
        mx::astype(joined_logprobs(args, weights, rows, ctx), mx::float32);
    mx::eval(lp);
    const float* c = lp.data<float>();
    out.chosen.insert(out.chosen.end(), c, c + rows.pairs);
    out.rejected.insert(out.rejected.end(), c + rows.pairs, c + 2 * rows.pairs);
  }
  return out;
}

} // namespace mlxt::train
