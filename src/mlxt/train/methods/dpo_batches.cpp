#include "mlxt/train/methods/dpo_batches.h"

#include <algorithm>

namespace mlxt::train {

std::vector<size_t>
train_pair_indices(size_t pairs, int batch_size, uint64_t seed, long index) {
  const long per_epoch =
      std::max<long>(1, static_cast<long>(pairs) / batch_size);
  const std::vector<size_t> order =
      data::epoch_permutation(pairs, seed, index / per_epoch);
  const size_t first = (index % per_epoch) * batch_size;
  return {order.begin() + std::min(first, pairs),
          order.begin() + std::min(pairs, first + batch_size)};
}

std::vector<size_t>
eval_pair_indices(size_t pairs, int batch_size, long index) {
  std::vector<size_t> indices;
  for (size_t i = index * batch_size;
       i < std::min(pairs, static_cast<size_t>((index + 1) * batch_size));
       ++i) {
    indices.push_back(i);
  }
  return indices;
}

MethodBatch pair_batch(const data::PreferenceSplit& split,
                       const std::vector<size_t>& indices,
                       const data::BatchOptions& options,
                       const RefLogprobs* ref) {
  std::vector<const data::Example*> chosen;
  std::vector<const data::Example*> rejected;
  std::vector<float> ref_chosen;
  std::vector<float> ref_rejected;
  for (size_t i : indices) {
    chosen.push_back(&split.pairs[i].chosen);
    rejected.push_back(&split.pairs[i].rejected);
    if (ref) {
      ref_chosen.push_back(ref->chosen[i]);
      ref_rejected.push_back(ref->rejected[i]);
    }
  }
  const data::Batch c = data::make_batch(chosen, options);
  const data::Batch r = data::make_batch(rejected, options);
  MethodBatch batch{{c.inputs, c.targets, c.mask, r.inputs, r.targets, r.mask},
                    c.input_tokens + r.input_tokens,
                    c.target_tokens + r.target_tokens};
  if (ref) {
    const int B = static_cast<int>(indices.size());
    batch.arrays.push_back(mx::array(ref_chosen.begin(), {B}, mx::float32));
    batch.arrays.push_back(mx::array(ref_rejected.begin(), {B}, mx::float32));
  }
  return batch;
}

} // namespace mlxt::train
