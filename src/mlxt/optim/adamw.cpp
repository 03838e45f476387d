// AdamW's formula, copying mlx.optimizers.AdamW / Adam.apply_single
// operation for operation so results match MLX's Python optimizer. The loop,
// state layout and checks are slot_optimizer.h's.
#include <utility>

#include "mlxt/optim/decimal.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/slot_optimizer.h"
#include "mlxt/optim/update_support.h"

namespace mlxt::optim {

namespace {

using detail::scalar;
using detail::Slots;

// Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization" (the
// formula in optimizer.h). Slots: m, v, both shaped and typed as the param.
struct AdamW {
  static constexpr const char* kName = "adamw";
  AdamWOptions options;

  struct Step {
    mx::array lr; // () float32
    mx::array t;  // () float32, step + 1: the bias corrections' exponent
  };

  std::vector<std::string> slot_names() const { return {"m", "v"}; }

  Step at_step(const mx::array& step) const {
    return {detail::learning_rate_at(options.learning_rate, step),
            detail::incremented_step(step)};
  }

  mx::array apply_single(const mx::array& param,
                         const mx::array& grad,
                         Slots& slots,
                         const Step& at) const {
    const double b1 = detail::as_decimal(options.beta1);
    const double b2 = detail::as_decimal(options.beta2);
    const auto lr = mx::astype(at.lr, grad.dtype());
    const auto& m0 = slots[0];
    const auto& v0 = slots[1];

    // Decoupled decay first (AdamW): w <- w * (1 - lr * wd).
    auto w = mx::multiply(
        param,
        mx::subtract(
            scalar(1.0, lr),
            mx::multiply(
                lr, scalar(detail::as_decimal(options.weight_decay), lr))));

    // m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2.
    auto m = mx::add(mx::multiply(scalar(b1, m0), m0),
                     mx::multiply(scalar(1.0 - b1, grad), grad));
    auto v = mx::add(mx::multiply(scalar(b2, v0), v0),
                     mx::multiply(scalar(1.0 - b2, grad), mx::square(grad)));

    if (options.bias_correction) {
      // w -= (lr / (1 - b1^t)) m / (sqrt(v) * rsqrt(1 - b2^t) + eps).
      auto one = mx::array(1.0f);
      auto c1 = mx::astype(
          mx::divide(lr,
                     mx::subtract(one, mx::power(mx::array(float(b1)), at.t))),
          grad.dtype());
      auto c2 = mx::astype(
          mx::rsqrt(mx::subtract(one, mx::power(mx::array(float(b2)), at.t))),
          grad.dtype());
      auto denominator =
          mx::add(mx::multiply(mx::sqrt(v), c2), scalar(options.eps, v));
      w = mx::subtract(w, mx::divide(mx::multiply(c1, m), denominator));
    } else {
      // w -= lr m / (sqrt(v) + eps).
      auto denominator = mx::add(mx::sqrt(v), scalar(options.eps, v));
      w = mx::subtract(w, mx::divide(mx::multiply(lr, m), denominator));
    }
    slots = {std::move(m), std::move(v)};
    return w;
  }
};

} // namespace

std::unique_ptr<Optimizer> make_adamw(const AdamWOptions& options) {
  detail::check_moment_options(AdamW::kName, options);
  return detail::make_slot_optimizer<AdamW>(options);
}

} // namespace mlxt::optim
