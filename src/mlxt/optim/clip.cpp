// Global-norm gradient clipping, as mlx.optimizers.clip_grad_norm.
#include <cmath>
#include <string>
#include <utility>

#include "mlxt/core/error.h"
#include "mlxt/optim/optimizer.h"

namespace mlxt::optim {

mx::array global_norm(const std::vector<mx::array>& grads) {
  // Squares are summed in fp32 for every dtype: bf16/fp16 sums of millions of
  // elements lose precision or overflow.
  auto total = mx::array(0.0f);
  for (const auto& g : grads) {
    total = mx::add(total, mx::sum(mx::square(mx::astype(g, mx::float32))));
  }
  return mx::sqrt(total);
}

std::pair<std::vector<mx::array>, mx::array>
clip_grad_norm(const std::vector<mx::array>& grads, float max_norm) {
  if (!std::isfinite(max_norm) || max_norm < 0.0f) {
    fail(ErrorCode::invalid_config,
         "[clip_grad_norm] max_norm must be finite and >= 0, but received " +
             std::to_string(max_norm) + ".");
  }
  auto norm = global_norm(grads);
  // g *= min(max_norm / (norm + 1e-6), 1): a no-op below the threshold.
  auto normalizer = mx::minimum(
      mx::divide(mx::array(max_norm), mx::add(norm, mx::array(1e-6f))),
      mx::array(1.0f));
  std::vector<mx::array> clipped;
  clipped.reserve(grads.size());
  for (const auto& g : grads) {
    // Scale in fp32, then cast back, so tiny factors do not underflow in fp16.
    clipped.push_back(mx::astype(mx::multiply(g, normalizer), g.dtype()));
  }
  return {std::move(clipped), std::move(norm)};
}

} // namespace mlxt::optim
