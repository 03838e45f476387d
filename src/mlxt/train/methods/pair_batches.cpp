#include "mlxt/train/methods/pair_batches.h"

#include <algorithm>

#include "mlxt/core/error.h"
#include "mlxt/data/batching.h"

namespace mlxt::train {

std::vector<std::string> pair_metric_names() {
  return {
      "rewards_chosen", "rewards_rejected", "reward_margin", "reward_accuracy"};
}

PairRefs training_pairs(const std::vector<data::PreferencePair>& pairs,
                        int batch_size,
                        uint64_t seed,
                        long index) {
  const long per_epoch =
      std::max<long>(1, static_cast<long>(pairs.size()) / batch_size);
  const std::vector<size_t> order =
      data::epoch_permutation(pairs.size(), seed, index / per_epoch);
  PairRefs batch;
  const size_t first = (index % per_epoch) * batch_size;
  for (size_t i = first; i < std::min(pairs.size(), first + batch_size); ++i) {
    batch.push_back(&pairs[order[i]]);
  }
  return batch;
}

EvalReport
evaluate_pairs(const LossFn& loss,
               const Params& weights,
               const std::vector<data::PreferencePair>& pairs,
               int batch_size,
               int max_batches,
               const std::function<MethodBatch(const PairRefs&)>& arrays_of,
               const std::vector<std::string>& metric_names,
               const ProgressFn& progress) {
  const long size = batch_size;
  long total = (static_cast<long>(pairs.size()) + size - 1) / size;
  if (max_batches >= 0) {
    total = std::min<long>(total, max_batches);
  }
  std::vector<double> sums(2 + metric_names.size(), 0.0);
  for (long b = 0; b < total; ++b) {
    if (progress) {
      progress(b, total);
    }
    PairRefs batch;
    for (long i = b * size; i < std::min<long>((b + 1) * size, pairs.size());
         ++i) {
      batch.push_back(&pairs[i]);
    }
    std::vector<mx::array> out =
        loss(weights, arrays_of(batch).arrays, mx::random::key(0));
    mx::eval(out);
    for (size_t i = 0; i < out.size(); ++i) {
      sums[i] += out[i].item<float>();
    }
  }
  if (progress) {
    progress(total, total);
  }
  const double count = std::max(sums[1], 1.0);
  EvalReport report{sums[0] / count, {{"pairs", sums[1]}}};
  for (size_t m = 0; m < metric_names.size(); ++m) {
    report.metrics[metric_names[m]] = sums[2 + m] / count;
  }
  return report;
}

} // namespace mlxt::train
