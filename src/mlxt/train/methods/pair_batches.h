// What the pairwise methods (DPO, reward models) share over preference
// pairs: the settings they refuse, the metrics they report, which pairs form
// training batch n, and an evaluation pass that sums a pairwise loss's
// outputs over a split.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mlxt/config/config.h"
#include "mlxt/data/preference_data.h"
#include "mlxt/train/method.h"

namespace mlxt::train {

using PairRefs = std::vector<const data::PreferencePair*>;

//! The metrics every pairwise loss returns after its count, in order:
//! rewards_chosen, rewards_rejected, reward_margin, reward_accuracy.
std::vector<std::string> pair_metric_names();

//! The pairs of training batch `index` of the run: batch_size pairs of a
//! per-epoch permutation (a pure function of seed and epoch, so resuming
//! needs only the index); pairs that do not fill a batch are skipped in that
//! epoch.
PairRefs training_pairs(const std::vector<data::PreferencePair>& pairs,
                        int batch_size,
                        uint64_t seed,
                        long index);

//! Runs `loss` with `weights` over `pairs` in file order, batch_size pairs
//! at a time (at most max_batches batches; -1: all), each batch built by
//! `arrays_of`. The report's loss and each metric (named by
//! `metric_names`, the loss's outputs after the count) are sums over the
//! count (pairs); metrics also hold "pairs".
EvalReport
evaluate_pairs(const LossFn& loss,
               const Params& weights,
               const std::vector<data::PreferencePair>& pairs,
               int batch_size,
               int max_batches,
               const std::function<MethodBatch(const PairRefs&)>& arrays_of,
               const std::vector<std::string>& metric_names,
               const ProgressFn& progress);

} // namespace mlxt::train
