// NovoGrad: a second moment per parameter tensor (of ||g||^2) normalises the
// gradient before the momentum, so the state is one scalar per layer.
#include <cmath>
#include <utility>

#include "mlxt/optim/decimal.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/update_support.h"

namespace mlxt::optim {

namespace {

using detail::scalar;

class NovoGrad final : public Optimizer {
public:
  explicit NovoGrad(NovoGradOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "novograd"; }

  std::vector<mx::array>
  init_state(const std::vector<mx::array>& params) const override {
    std::vector<mx::array> state;
    state.reserve(2 * params.size());
    for (const auto& p : params) {
      state.push_back(mx::zeros_like(p));          // m, shape of p
      state.push_back(mx::zeros({}, mx::float32)); // v, () float32
    }
    return state;
  }

  std::vector<std::string>
  state_names(const std::vector<std::string>& param_names) const override {
    std::vector<std::string> names;
    names.reserve(2 * param_names.size());
    for (const auto& n : param_names) {
      names.push_back(n + ".m");
      names.push_back(n + ".v");
    }
    return names;
  }

  std::pair<std::vector<mx::array>, std::vector<mx::array>>
  update(const std::vector<mx::array>& params,
         const std::vector<mx::array>& grads,
         const std::vector<mx::array>& state,
         const mx::array& step) const override {
    detail::check_update_inputs("novograd", params, grads, state, 2);
    const auto lr32 = mx::astype(options_.learning_rate(step), mx::float32);
    const double b1 = detail::as_decimal(options_.beta1);
    const double b2 = detail::as_decimal(options_.beta2);
    const double wd = detail::as_decimal(options_.weight_decay);
    // The paper starts v at ||g||^2 rather than averaging it with a zero.
    const auto first =
        mx::equal(mx::astype(step, mx::float32), mx::array(0.0f));

    std::vector<mx::array> new_params;
    std::vector<mx::array> new_state;
    for (size_t i = 0; i < params.size(); ++i) {
      const auto& w0 = params[i];
      const auto& g = grads[i];
      const auto& m0 = state[2 * i];
      const auto& v0 = state[2 * i + 1];
      auto g_sq = mx::sum(mx::square(mx::astype(g, mx::float32)));
      auto v = mx::where(
          first,
          g_sq,
          mx::add(mx::multiply(mx::array(static_cast<float>(b2)), v0),
                  mx::multiply(mx::array(static_cast<float>(1.0 - b2)), g_sq)));
      auto denominator =
          mx::astype(mx::add(mx::sqrt(v), mx::array(options_.eps)), g.dtype());
      auto direction = mx::divide(g, denominator);
      if (wd != 0.0) {
        direction = mx::add(direction, mx::multiply(scalar(wd, w0), w0));
      }
      auto m = mx::add(mx::multiply(scalar(b1, m0), m0), direction);
      auto lr = mx::astype(lr32, w0.dtype());
      new_params.push_back(mx::subtract(w0, mx::multiply(lr, m)));
      new_state.push_back(std::move(m));
      new_state.push_back(std::move(v));
    }
    return {std::move(new_params), std::move(new_state)};
  }

private:
  NovoGradOptions options_;
};

} // namespace

std::unique_ptr<Optimizer> make_novograd(const NovoGradOptions& options) {
  constexpr const char* op = "novograd";
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
                       std::isfinite(options.eps) && options.eps >= 0.0f,
                       "eps must be finite and >= 0",
                       options.eps);
  detail::check_option(op,
                       std::isfinite(options.weight_decay) &&
                           options.weight_decay >= 0.0f,
                       "weight_decay must be finite and >= 0",
                       options.weight_decay);
  return std::make_unique<NovoGrad>(options);
}

} // namespace mlxt::optim
