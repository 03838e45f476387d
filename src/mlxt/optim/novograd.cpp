// NovoGrad's formula: a second moment per parameter tensor (of ||g||^2)
// normalises the gradient before the momentum, so that moment is one scalar
// per layer. The loop, state layout and checks are slot_optimizer.h's.
#include <utility>

#include "mlxt/optim/decimal.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/slot_optimizer.h"
#include "mlxt/optim/update_support.h"

namespace mlxt::optim {

namespace {

using detail::scalar;
using detail::Slots;

// Ginsburg et al. 2019, "Stochastic Gradient Methods with Layer-wise Adaptive
// Moments for Training of Deep Networks" (the formula in optimizer.h).
// Slots: m, shaped and typed as the param; v, () float32.
struct NovoGrad {
  static constexpr const char* kName = "novograd";
  NovoGradOptions options;

  struct Step {
    mx::array lr;    // () float32
    mx::array first; // () bool, true on the first update
  };

  std::vector<std::string> slot_names() const { return {"m", "v"}; }

  Slots init_single(const mx::array& param) const {
    return {mx::zeros_like(param), mx::zeros({}, mx::float32)};
  }

  Step at_step(const mx::array& step) const {
    // The paper starts v at ||g||^2 rather than averaging it with a zero.
    return {detail::learning_rate_at(options.learning_rate, step),
            mx::equal(mx::astype(step, mx::float32), mx::array(0.0f))};
  }

  mx::array apply_single(const mx::array& param,
                         const mx::array& grad,
                         Slots& slots,
                         const Step& at) const {
    const double b1 = detail::as_decimal(options.beta1);
    const double b2 = detail::as_decimal(options.beta2);
    const double wd = detail::as_decimal(options.weight_decay);
    const auto& w0 = param;
    const auto& g = grad;
    const auto& m0 = slots[0];
    const auto& v0 = slots[1];
    auto g_sq = mx::sum(mx::square(mx::astype(g, mx::float32)));
    auto v = mx::where(
        at.first,
        g_sq,
        mx::add(mx::multiply(mx::array(static_cast<float>(b2)), v0),
                mx::multiply(mx::array(static_cast<float>(1.0 - b2)), g_sq)));
    auto denominator =
        mx::astype(mx::add(mx::sqrt(v), mx::array(options.eps)), g.dtype());
    auto direction = mx::divide(g, denominator);
    if (wd != 0.0) {
      direction = mx::add(direction, mx::multiply(scalar(wd, w0), w0));
    }
    auto m = mx::add(mx::multiply(scalar(b1, m0), m0), direction);
    auto lr = mx::astype(at.lr, w0.dtype());
    slots = {m, std::move(v)};
    return mx::subtract(w0, mx::multiply(lr, m));
  }
};

} // namespace

std::unique_ptr<Optimizer> make_novograd(const NovoGradOptions& options) {
  detail::check_moment_options(NovoGrad::kName, options);
  return detail::make_slot_optimizer<NovoGrad>(options);
}

} // namespace mlxt::optim
