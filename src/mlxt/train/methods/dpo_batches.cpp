#include "mlxt/train/methods/dpo_batches.h"

namespace mlxt::train {

MethodBatch pair_batch(const data::PreferenceSplit& split,
                       const PairRefs& pairs,
                       const data::BatchOptions& options,
                       const RefLogprobs* ref) {
  std::vector<const data::Example*> chosen;
  std::vector<const data::Example*> rejected;
  std::vector<float> ref_chosen;
  std::vector<float> ref_rejected;
  for (const data::PreferencePair* p : pairs) {
    chosen.push_back(&p->chosen);
    rejected.push_back(&p->rejected);
    if (ref) {
      const size_t i = p - split.pairs.data(); // the pair's index
      ref_chosen.push_back(ref->chosen.at(i));
      ref_rejected.push_back(ref->rejected.at(i));
    }
  }
  const data::Batch c = data::make_batch(chosen, options);
  const data::Batch r = data::make_batch(rejected, options);
  MethodBatch batch{{c.inputs, c.targets, c.mask, r.inputs, r.targets, r.mask},
                    c.input_tokens + r.input_tokens,
                    c.target_tokens + r.target_tokens};
  if (ref) {
    const int B = static_cast<int>(pairs.size());
    batch.arrays.push_back(mx::array(ref_chosen.begin(), {B}, mx::float32));
    batch.arrays.push_back(mx::array(ref_rejected.begin(), {B}, mx::float32));
  }
  return batch;
}

} // namespace mlxt::train
