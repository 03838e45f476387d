#include "mlxt/train/methods/kl.h"

namespace mlxt::train {

mx::array kl_estimate(const mx::array& logps,
                      const mx::array& ref_logps,
                      KlEstimator estimator) {
  const mx::array log_r = mx::subtract(ref_logps, logps);
  switch (estimator) {
  case KlEstimator::k1:
    return mx::negative(log_r);
  case KlEstimator::k2:
    return mx::multiply(mx::array(0.5f), mx::square(log_r));
  case KlEstimator::k3:
    break;
  }
  return mx::subtract(mx::subtract(mx::exp(log_r), mx::array(1.0f)), log_r);
}

} // namespace mlxt::train
