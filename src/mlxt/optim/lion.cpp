// Lion's formula, as mlx.optimizers.Lion.apply_single. The loop, state
// layout and checks are slot_optimizer.h's.
#include <utility>

#include "mlxt/optim/decimal.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/slot_optimizer.h"
#include "mlxt/optim/update_support.h"

namespace mlxt::optim {

namespace {

using detail::scalar;
using detail::Slots;

// Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms" (the
// formula in optimizer.h). Slot: m, shaped and typed as the param.
struct Lion {
  static constexpr const char* kName = "lion";
  LionOptions options;

  std::vector<std::string> slot_names() const { return {"m"}; }

  mx::array apply_single(const mx::array& param,
                         const mx::array& grad,
                         Slots& slots,
                         const detail::LearningRate& at) const {
    const double b1 = detail::as_decimal(options.beta1);
    const double b2 = detail::as_decimal(options.beta2);
    const double wd = detail::as_decimal(options.weight_decay);
    const auto& g = grad;
    const auto& m0 = slots[0];
    const auto lr = mx::astype(at.lr, g.dtype());
    // The sign of the interpolation c moves w; m tracks g more slowly.
    auto c = mx::add(mx::multiply(scalar(b1, m0), m0),
                     mx::multiply(scalar(1.0 - b1, g), g));
    auto m = mx::add(mx::multiply(scalar(b2, m0), m0),
                     mx::multiply(scalar(1.0 - b2, g), g));
    auto w = param;
    if (wd > 0.0) {
      w = mx::multiply(
          mx::subtract(scalar(1.0, lr), mx::multiply(lr, scalar(wd, lr))), w);
    }
    slots[0] = std::move(m);
    return mx::subtract(w, mx::multiply(lr, mx::sign(c)));
  }
};

} // namespace

std::unique_ptr<Optimizer> make_lion(const LionOptions& options) {
  constexpr const char* op = Lion::kName;
  detail::require_schedule(op, options.learning_rate);
  detail::check_beta(op, "beta1", options.beta1);
  detail::check_beta(op, "beta2", options.beta2);
  detail::check_non_negative(op, "weight_decay", options.weight_decay);
  return detail::make_slot_optimizer<Lion>(options);
}

} // namespace mlxt::optim
