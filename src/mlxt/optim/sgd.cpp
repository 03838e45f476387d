// SGD's formula (momentum, dampening, Nesterov, L2 weight decay), as
// mlx.optimizers.SGD.apply_single. The loop, state layout and checks are
// slot_optimizer.h's.
#include <utility>

#include "mlxt/optim/decimal.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/slot_optimizer.h"
#include "mlxt/optim/update_support.h"

namespace mlxt::optim {

namespace {

using detail::scalar;
using detail::Slots;

// Polyak 1964 (momentum); Sutskever et al. 2013 (Nesterov form) (the formula
// in optimizer.h). Slot: v, shaped and typed as the param.
struct Sgd {
  static constexpr const char* kName = "sgd";
  SgdOptions options;

  std::vector<std::string> slot_names() const { return {"v"}; }

  mx::array apply_single(const mx::array& param,
                         const mx::array& grad,
                         Slots& slots,
                         const detail::LearningRate& at) const {
    const double mu = detail::as_decimal(options.momentum);
    const double wd = detail::as_decimal(options.weight_decay);
    const double tau = detail::as_decimal(options.dampening);
    const auto lr = mx::astype(at.lr, grad.dtype());

    auto g = grad;
    if (wd != 0.0) {
      g = mx::add(g, mx::multiply(scalar(wd, param), param));
    }
    if (mu <= 0.0) {
      // Plain SGD keeps no velocity; the slot passes through unchanged.
      return mx::subtract(param, mx::multiply(lr, g));
    }
    const auto& v0 = slots[0];
    auto v = mx::multiply(scalar(mu, v0), v0);
    v = mx::add(v, tau > 0.0 ? mx::multiply(scalar(1.0 - tau, g), g) : g);
    auto u = options.nesterov ? mx::add(g, mx::multiply(scalar(mu, v), v)) : v;
    slots[0] = std::move(v);
    return mx::subtract(param, mx::multiply(lr, u));
  }
};

} // namespace

std::unique_ptr<Optimizer> make_sgd(const SgdOptions& options) {
  constexpr const char* op = Sgd::kName;
  detail::require_schedule(op, options.learning_rate);
  detail::check_non_negative(op, "momentum", options.momentum);
  detail::check_option(op,
                       options.dampening >= 0.0f && options.dampening <= 1.0f,
                       "dampening must be in [0, 1]",
                       options.dampening);
  detail::check_non_negative(op, "weight_decay", options.weight_decay);
  if (options.nesterov &&
      (options.momentum <= 0.0f || options.dampening != 0.0f)) {
    fail(ErrorCode::invalid_config,
         "[sgd] nesterov needs momentum > 0 and dampening == 0, but received "
         "momentum " +
             std::to_string(options.momentum) + " and dampening " +
             std::to_string(options.dampening) + ".");
  }
  return detail::make_slot_optimizer<Sgd>(options);
}

} // namespace mlxt::optim
