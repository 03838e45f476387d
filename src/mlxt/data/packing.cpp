#include "mlxt/data/packing.h"

#include <algorithm>
#include <numeric>

#include "mlxt/core/error.h"

namespace mlxt::data {

std::vector<std::vector<size_t>>
pack_examples(const std::vector<Example>& examples, int capacity) {
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return examples[a].tokens.size() > examples[b].tokens.size();
  });
  std::vector<std::vector<size_t>> rows;
  std::vector<int> free; // positions left in each row
  for (size_t index : order) {
    const int need = static_cast<int>(examples[index].tokens.size()) - 1;
    if (need > capacity) {
      fail(ErrorCode::internal,
           "an example of " + std::to_string(need + 1) +
               " tokens does not fit a packed row of " +
               std::to_string(capacity) + " positions");
    }
    if (need <= 0) {
      continue;
    }
    size_t r = 0;
    while (r < rows.size() && free[r] < need) {
      ++r;
    }
    if (r == rows.size()) {
      rows.emplace_back();
      free.push_back(capacity);
    }
    rows[r].push_back(index);
    free[r] -= need;
  }
  return rows;
}

Batch make_packed_batch(const std::vector<std::vector<const Example*>>& rows,
                        const BatchOptions& options) {
  int longest = 1;
  for (const auto& row : rows) {
    int fill = 0;
    for (const Example* e : row) {
      fill += static_cast<int>(e->tokens.size()) - 1;
    }
    longest = std::max(longest, fill);
  }
  const int m = options.pad_multiple;
  const int T = std::max(
      longest, std::min(((longest + m - 1) / m) * m, options.max_seq_length));
  const int B = static_cast<int>(rows.size());
  std::vector<int32_t> inputs(size_t(B) * T, 0);
  std::vector<int32_t> targets(size_t(B) * T, 0);
  std::vector<float> mask(size_t(B) * T, 0.0f);
  std::vector<int32_t> segments(size_t(B) * T, 0); // 0 = padding
  std::vector<int32_t> positions(size_t(B) * T, 0);
  long count = 0;
  long filled = 0;
  for (int b = 0; b < B; ++b) {
    size_t at = size_t(b) * T;
    int32_t segment = 0;
    for (const Example* e : rows[b]) {
      ++segment;
      for (size_t t = 0; t + 1 < e->tokens.size(); ++t, ++at, ++filled) {
        inputs[at] = e->tokens[t];
        targets[at] = e->tokens[t + 1];
        mask[at] = e->loss_mask[t + 1];
        count += e->loss_mask[t + 1];
        segments[at] = segment;
        positions[at] = static_cast<int32_t>(t);
      }
    }
  }
  mx::array seg = mx::array(segments.begin(), {B, T}, mx::int32);
  // Query t sees key s when both are in one document and s <= t.
  mx::array same =
      mx::equal(mx::reshape(seg, {B, 1, T, 1}), mx::reshape(seg, {B, 1, 1, T}));
  mx::array idx = mx::arange(T);
  mx::array causal = mx::greater_equal(mx::reshape(idx, {1, 1, T, 1}),
                                       mx::reshape(idx, {1, 1, 1, T}));
  Batch batch{mx::array(inputs.begin(), {B, T}, mx::int32),
              mx::array(targets.begin(), {B, T}, mx::int32),
              mx::array(mask.begin(), {B, T}, mx::float32),
              count,
              filled};
  batch.attention_mask = mx::logical_and(same, causal);
  batch.positions = mx::array(positions.begin(), {B, T}, mx::int32);
  return batch;
}

PackedSchedule::PackedSchedule(const std::vector<Example>& examples,
                               const BatchOptions& options,
                               uint64_t seed)
    : examples_(examples), seed_(seed) {
  std::vector<std::vector<size_t>> rows =
      pack_examples(examples, options.max_seq_length - 1);
  if (rows.size() < static_cast<size_t>(options.batch_size)) {
    fail(ErrorCode::invalid_data,
         "packing the dataset gives " + std::to_string(rows.size()) +
             " rows, fewer than batch_size " +
             std::to_string(options.batch_size),
         {.key = "batch_size"});
  }
  auto fill = [&](const std::vector<size_t>& row) {
    size_t n = 0;
    for (size_t i : row) {
      n += examples[i].tokens.size() - 1;
    }
    return n;
  };
  // Rows of similar fill share a batch, so little is padding.
  std::stable_sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
    return fill(a) < fill(b);
  });
  for (size_t i = 0; i + options.batch_size <= rows.size();
       i += options.batch_size) {
    batches_.emplace_back(rows.begin() + i,
                          rows.begin() + i + options.batch_size);
  }
}

std::vector<std::vector<const Example*>> PackedSchedule::batch(long n) const {
  const long per_epoch = batches_per_epoch();
  const long epoch = n / per_epoch;
  const std::vector<size_t> perm =
      epoch_permutation(batches_.size(), seed_, epoch);
  std::vector<std::vector<const Example*>> out;
  for (const auto& row : batches_[perm[n % per_epoch]]) {
    out.emplace_back();
    for (size_t index : row) {
      out.back().push_back(&examples_[index]);
    }
  }
  return out;
}

} // namespace mlxt::data
