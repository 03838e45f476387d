#include "mlxt/data/batching.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "mlxt/core/error.h"

namespace mlxt::data {

int default_pad_multiple() {
  return mx::default_device() == mx::Device::gpu ? 128 : 32;
}

Batch make_batch(const std::vector<const Example*>& examples,
                 const BatchOptions& options) {
  size_t longest = 0;
  for (const Example* e : examples) {
    longest = std::max(longest, e->tokens.size());
  }
  const int B = static_cast<int>(examples.size());
  const int m = options.pad_multiple;
  int T = static_cast<int>(longest) - 1;
  T = std::min(((T + m - 1) / m) * m, std::max(options.max_seq_length - 1, T));
  std::vector<int32_t> inputs(size_t(B) * T, 0);
  std::vector<int32_t> targets(size_t(B) * T, 0);
  std::vector<float> mask(size_t(B) * T, 0.0f);
  long count = 0;
  long positions = 0;
  for (int b = 0; b < B; ++b) {
    const Example& e = *examples[b];
    for (size_t t = 0; t + 1 < e.tokens.size(); ++t, ++positions) {
      size_t at = size_t(b) * T + t;
      inputs[at] = e.tokens[t];
      targets[at] = e.tokens[t + 1];
      mask[at] = e.loss_mask[t + 1];
      count += e.loss_mask[t + 1];
    }
  }
  return Batch{mx::array(inputs.begin(), {B, T}, mx::int32),
               mx::array(targets.begin(), {B, T}, mx::int32),
               mx::array(mask.begin(), {B, T}, mx::float32),
               count,
               positions};
}

std::vector<size_t> epoch_permutation(size_t n, uint64_t seed, long epoch) {
  std::vector<size_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  // A fixed generator seeded from (seed, epoch): the same order on every
  // platform and after every resume.
  std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
  for (size_t i = perm.size(); i > 1; --i) {
    std::swap(perm[i - 1], perm[rng() % i]);
  }
  return perm;
}

BatchSchedule::BatchSchedule(const std::vector<Example>& examples,
                             const BatchOptions& options,
                             uint64_t seed)
    : examples_(examples), seed_(seed) {
  if (examples.size() < static_cast<size_t>(options.batch_size)) {
    fail(ErrorCode::invalid_data,
         "the dataset has " + std::to_string(examples.size()) +
             " examples, fewer than batch_size " +
             std::to_string(options.batch_size),
         {.key = "batch_size"});
  }
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return examples[a].tokens.size() < examples[b].tokens.size();
  });
  for (size_t i = 0; i + options.batch_size <= order.size();
       i += options.batch_size) {
    batches_.emplace_back(order.begin() + i,
                          order.begin() + i + options.batch_size);
  }
}

std::vector<const Example*> BatchSchedule::batch(long n) const {
  const long per_epoch = batches_per_epoch();
  const long epoch = n / per_epoch;
  const std::vector<size_t> perm =
      epoch_permutation(batches_.size(), seed_, epoch);
  std::vector<const Example*> out;
  for (size_t index : batches_[perm[n % per_epoch]]) {
    out.push_back(&examples_[index]);
  }
  return out;
}

} // namespace mlxt::data
