#include "mlxt/train/loss.h"

namespace mlxt::train {

mx::array masked_cross_entropy_sum(const mx::array& logits,
                                   const mx::array& targets,
                                   const mx::array& mask) {
  mx::array x = mx::astype(logits, mx::float32);
  mx::array target_logit =
      mx::squeeze(mx::take_along_axis(x, mx::expand_dims(targets, -1), -1), -1);
  mx::array per_token = mx::subtract(mx::logsumexp(x, -1), target_logit);
  return mx::sum(mx::multiply(per_token, mask));
}

} // namespace mlxt::train
