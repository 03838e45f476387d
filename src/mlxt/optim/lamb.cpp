// LAMB's formula: Adam's bias-corrected direction plus L2 decay, scaled per
// parameter tensor by the trust ratio ||w|| / ||u||. The loop, state layout
// and checks are slot_optimizer.h's.
#include <utility>

#include "mlxt/optim/decimal.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/slot_optimizer.h"
#include "mlxt/optim/update_support.h"

namespace mlxt::optim {

namespace {

using detail::scalar;
using detail::Slots;

// L2 norm in float32, whatever the dtype (bf16 sums lose precision).
mx::array norm32(const mx::array& x) {
  return mx::sqrt(mx::sum(mx::square(mx::astype(x, mx::float32))));
}

// You et al. 2020, "Large Batch Optimization for Deep Learning: Training
// BERT in 76 minutes" (the formula in optimizer.h). Slots: m, v, shaped and
// typed as the param.
struct Lamb {
  static constexpr const char* kName = "lamb";
  LambOptions options;

  struct Step {
    mx::array lr; // () float32
    mx::array c1; // () float32, 1 - b1^t with t = step + 1
    mx::array c2; // () float32, 1 - b2^t
  };

  std::vector<std::string> slot_names() const { return {"m", "v"}; }

  Step at_step(const mx::array& step) const {
    const auto b1 = static_cast<float>(detail::as_decimal(options.beta1));
    const auto b2 = static_cast<float>(detail::as_decimal(options.beta2));
    const auto t = detail::incremented_step(step);
    const auto one = mx::array(1.0f);
    return {detail::learning_rate_at(options.learning_rate, step),
            mx::subtract(one, mx::power(mx::array(b1), t)),
            mx::subtract(one, mx::power(mx::array(b2), t))};
  }

  mx::array apply_single(const mx::array& param,
                         const mx::array& grad,
                         Slots& slots,
                         const Step& at) const {
    const double b1 = detail::as_decimal(options.beta1);
    const double b2 = detail::as_decimal(options.beta2);
    const auto& w0 = param;
    const auto& g = grad;
    const auto& m0 = slots[0];
    const auto& v0 = slots[1];
    auto m = mx::add(mx::multiply(scalar(b1, m0), m0),
                     mx::multiply(scalar(1.0 - b1, g), g));
    auto v = mx::add(mx::multiply(scalar(b2, v0), v0),
                     mx::multiply(scalar(1.0 - b2, g), mx::square(g)));
    auto m_hat = mx::divide(m, mx::astype(at.c1, g.dtype()));
    auto v_hat = mx::divide(v, mx::astype(at.c2, g.dtype()));
    auto u =
        mx::divide(m_hat, mx::add(mx::sqrt(v_hat), scalar(options.eps, v)));
    u = mx::add(
        u,
        mx::multiply(scalar(detail::as_decimal(options.weight_decay), w0), w0));
    // trust = ||w|| / ||u||, or 1 when either is 0 (fresh or zero layers).
    auto w_norm = norm32(w0);
    auto u_norm = norm32(u);
    auto zero = mx::array(0.0f);
    auto one = mx::array(1.0f);
    auto usable =
        mx::logical_and(mx::greater(w_norm, zero), mx::greater(u_norm, zero));
    auto trust = mx::where(
        usable, mx::divide(w_norm, mx::where(usable, u_norm, one)), one);
    auto scale = mx::astype(mx::multiply(at.lr, trust), w0.dtype());
    slots = {std::move(m), std::move(v)};
    return mx::subtract(w0, mx::multiply(scale, u));
  }
};

} // namespace

std::unique_ptr<Optimizer> make_lamb(const LambOptions& options) {
  detail::check_moment_options(Lamb::kName, options);
  return detail::make_slot_optimizer<Lamb>(options);
}

} // namespace mlxt::optim
