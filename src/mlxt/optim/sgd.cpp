// SGD with momentum, dampening, Nesterov and L2 weight decay, as
// mlx.optimizers.SGD.apply_single.
#include <cmath>
#include <utility>

#include "mlxt/optim/decimal.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/update_support.h"

namespace mlxt::optim {

namespace {

using detail::scalar;

class Sgd final : public Optimizer {
public:
  explicit Sgd(SgdOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "sgd"; }

  std::vector<mx::array>
  init_state(const std::vector<mx::array>& params) const override {
    std::vector<mx::array> state;
    state.reserve(params.size());
    for (const auto& p : params) {
      state.push_back(mx::zeros_like(p)); // v
    }
    return state;
  }

  std::vector<std::string>
  state_names(const std::vector<std::string>& param_names) const override {
    std::vector<std::string> names;
    names.reserve(param_names.size());
    for (const auto& n : param_names) {
      names.push_back(n + ".v");
    }
    return names;
  }

  std::pair<std::vector<mx::array>, std::vector<mx::array>>
  update(const std::vector<mx::array>& params,
         const std::vector<mx::array>& grads,
         const std::vector<mx::array>& state,
         const mx::array& step) const override {
    detail::check_update_inputs("sgd", params, grads, state, 1);
    const auto lr32 = mx::astype(options_.learning_rate(step), mx::float32);
    std::vector<mx::array> new_params;
    std::vector<mx::array> new_state;
    for (size_t i = 0; i < params.size(); ++i) {
      auto [w, v] = update_single(params[i], grads[i], state[i], lr32);
      new_params.push_back(std::move(w));
      new_state.push_back(std::move(v));
    }
    return {std::move(new_params), std::move(new_state)};
  }

private:
  std::pair<mx::array, mx::array> update_single(const mx::array& param,
                                                const mx::array& grad,
                                                const mx::array& v0,
                                                const mx::array& lr32) const {
    const double mu = detail::as_decimal(options_.momentum);
    const double wd = detail::as_decimal(options_.weight_decay);
    const double tau = detail::as_decimal(options_.dampening);
    const auto lr = mx::astype(lr32, grad.dtype());

    auto g = grad;
    if (wd != 0.0) {
      g = mx::add(g, mx::multiply(scalar(wd, param), param));
    }
    if (mu <= 0.0) {
      // Plain SGD keeps no velocity; the slot passes through unchanged.
      return {mx::subtract(param, mx::multiply(lr, g)), v0};
    }
    auto v = mx::multiply(scalar(mu, v0), v0);
    v = mx::add(v, tau > 0.0 ? mx::multiply(scalar(1.0 - tau, g), g) : g);
    auto u = options_.nesterov ? mx::add(g, mx::multiply(scalar(mu, v), v)) : v;
    return {mx::subtract(param, mx::multiply(lr, u)), std::move(v)};
  }

  SgdOptions options_;
};

} // namespace

std::unique_ptr<Optimizer> make_sgd(const SgdOptions& options) {
  constexpr const char* op = "sgd";
  detail::require_schedule(op, options.learning_rate);
  detail::check_option(op,
                       std::isfinite(options.momentum) &&
                           options.momentum >= 0.0f,
                       "momentum must be finite and >= 0",
                       options.momentum);
  detail::check_option(op,
                       options.dampening >= 0.0f && options.dampening <= 1.0f,
                       "dampening must be in [0, 1]",
                       options.dampening);
  detail::check_option(op,
                       std::isfinite(options.weight_decay) &&
                           options.weight_decay >= 0.0f,
                       "weight_decay must be finite and >= 0",
                       options.weight_decay);
  if (options.nesterov &&
      (options.momentum <= 0.0f || options.dampening != 0.0f)) {
    fail(ErrorCode::invalid_config,
         "[sgd] nesterov needs momentum > 0 and dampening == 0, but received "
         "momentum " +
             std::to_string(options.momentum) + " and dampening " +
             std::to_string(options.dampening) + ".");
  }
  return std::make_unique<Sgd>(options);
}

} // namespace mlxt::optim
