// The arrays of a batch of preference pairs for the DPO loss
// (methods/dpo_forward.h); which pairs make a batch is pair_batches.h's.
#pragma once

#include <vector>

#include "mlxt/data/batching.h"
#include "mlxt/data/preference_data.h"
#include "mlxt/train/method.h"
#include "mlxt/train/methods/pair_batches.h"

namespace mlxt::train {

//! The reference's summed answer log-probs of every pair of a split, by
//! pair index.
struct RefLogprobs {
  std::vector<float> chosen;
  std::vector<float> rejected;
};

//! The arrays of `pairs` (pairs of `split`): chosen (inputs, targets, mask)
//! then rejected, each side padded alone; with `ref` (the split's reference
//! log-probs), theirs after, chosen then rejected, (B,) float32 each.
MethodBatch pair_batch(const data::PreferenceSplit& split,
                       const PairRefs& pairs,
                       const data::BatchOptions& options,
                       const RefLogprobs* ref = nullptr);

} // namespace mlxt::train
