// Batches of preference pairs for the DPO loss (methods/dpo_forward.h):
// which pairs make training batch n, and their arrays.
#pragma once

#include <cstdint>
#include <vector>

#include "mlxt/data/batching.h"
#include "mlxt/data/preference_data.h"
#include "mlxt/train/method.h"

namespace mlxt::train {

//! The reference's summed answer log-probs of every pair of a split, by
//! pair index.
struct RefLogprobs {
  std::vector<float> chosen;
  std::vector<float> rejected;
};

//! Training batch `index` of a run: batch_size pairs of a per-epoch
//! permutation (a pure function of seed and epoch, so resuming needs only
//! the index); pairs that do not fill a batch are skipped in that epoch.
std::vector<size_t>
train_pair_indices(size_t pairs, int batch_size, uint64_t seed, long index);

//! Evaluation batch `index`: pairs [index * batch_size, ...) in file order.
std::vector<size_t> eval_pair_indices(size_t pairs, int batch_size, long index);

//! The arrays of the pairs `indices` of `split`: chosen (inputs, targets,
//! mask) then rejected, each side padded alone; with `ref`, their
//! reference log-probs after, chosen then rejected, (B,) float32 each.
MethodBatch pair_batch(const data::PreferenceSplit& split,
                       const std::vector<size_t>& indices,
                       const data::BatchOptions& options,
                       const RefLogprobs* ref = nullptr);

} // namespace mlxt::train
