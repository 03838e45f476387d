// Lion, as mlx.optimizers.Lion.apply_single.
#include <cmath>
#include <utility>

#include "mlxt/optim/decimal.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/update_support.h"

namespace mlxt::optim {

namespace {

using detail::scalar;

class Lion final : public Optimizer {
public:
  explicit Lion(LionOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "lion"; }

  std::vector<mx::array>
  init_state(const std::vector<mx::array>& params) const override {
    std::vector<mx::array> state;
    state.reserve(params.size());
    for (const auto& p : params) {
      state.push_back(mx::zeros_like(p)); // m
    }
    return state;
  }

  std::vector<std::string>
  state_names(const std::vector<std::string>& param_names) const override {
    std::vector<std::string> names;
    names.reserve(param_names.size());
    for (const auto& n : param_names) {
      names.push_back(n + ".m");
    }
    return names;
  }

  std::pair<std::vector<mx::array>, std::vector<mx::array>>
  update(const std::vector<mx::array>& params,
         const std::vector<mx::array>& grads,
         const std::vector<mx::array>& state,
         const mx::array& step) const override {
    detail::check_update_inputs("lion", params, grads, state, 1);
    const auto lr32 = mx::astype(options_.learning_rate(step), mx::float32);
    const double b1 = detail::as_decimal(options_.beta1);
    const double b2 = detail::as_decimal(options_.beta2);
    const double wd = detail::as_decimal(options_.weight_decay);

    std::vector<mx::array> new_params;
    std::vector<mx::array> new_state;
    for (size_t i = 0; i < params.size(); ++i) {
      const auto& g = grads[i];
      const auto& m0 = state[i];
      const auto lr = mx::astype(lr32, g.dtype());
      // The sign of the interpolation c moves w; m tracks g more slowly.
      auto c = mx::add(mx::multiply(scalar(b1, m0), m0),
                       mx::multiply(scalar(1.0 - b1, g), g));
      auto m = mx::add(mx::multiply(scalar(b2, m0), m0),
                       mx::multiply(scalar(1.0 - b2, g), g));
      auto w = params[i];
      if (wd > 0.0) {
        w = mx::multiply(
            mx::subtract(scalar(1.0, lr), mx::multiply(lr, scalar(wd, lr))), w);
      }
      new_params.push_back(mx::subtract(w, mx::multiply(lr, mx::sign(c))));
      new_state.push_back(std::move(m));
    }
    return {std::move(new_params), std::move(new_state)};
  }

private:
  LionOptions options_;
};

} // namespace

std::unique_ptr<Optimizer> make_lion(const LionOptions& options) {
  constexpr const char* op = "lion";
  detail::require_schedule(op, options.learning_rate);
  detail::check_option(op,
                       options.beta1 >= 0.0f && options.beta1 < 1.0f,
                       "beta1 must be in [0, 1)",
                       options.beta1);
  detail::check_option(op,
                       options.beta2 >= 0.0f && options.beta2 < 1.0f,
                       "beta2 must be in [0, 1)",
                       options.beta2);
  detail::check_option(op,
                       std::isfinite(options.weight_decay) &&
                           options.weight_decay >= 0.0f,
                       "weight_decay must be finite and >= 0",
                       options.weight_decay);
  return std::make_unique<Lion>(options);
}

} // namespace mlxt::optim
