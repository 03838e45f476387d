// LAMB: Adam's bias-corrected direction plus L2 decay, scaled per parameter
// tensor by the trust ratio ||w|| / ||u||.
#include <cmath>
#include <utility>

#include "mlxt/optim/decimal.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/update_support.h"

namespace mlxt::optim {

namespace {

using detail::scalar;

// L2 norm in float32, whatever the dtype (bf16 sums lose precision).
mx::array norm32(const mx::array& x) {
  return mx::sqrt(mx::sum(mx::square(mx::astype(x, mx::float32))));
}

class Lamb final : public Optimizer {
public:
  explicit Lamb(LambOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "lamb"; }

  std::vector<mx::array>
  init_state(const std::vector<mx::array>& params) const override {
    std::vector<mx::array> state;
    state.reserve(2 * params.size());
    for (const auto& p : params) {
      state.push_back(mx::zeros_like(p)); // m
      state.push_back(mx::zeros_like(p)); // v
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
    detail::check_update_inputs("lamb", params, grads, state, 2);
    const auto lr32 = mx::astype(options_.learning_rate(step), mx::float32);
    const double b1 = detail::as_decimal(options_.beta1);
    const double b2 = detail::as_decimal(options_.beta2);
    // Bias corrections 1 - b^t in float32, t = step + 1.
    const auto t = detail::incremented_step(step);
    const auto one = mx::array(1.0f);
    const auto c1 =
        mx::subtract(one, mx::power(mx::array(static_cast<float>(b1)), t));
    const auto c2 =
        mx::subtract(one, mx::power(mx::array(static_cast<float>(b2)), t));

    std::vector<mx::array> new_params;
    std::vector<mx::array> new_state;
    for (size_t i = 0; i < params.size(); ++i) {
      const auto& w0 = params[i];
      const auto& g = grads[i];
      const auto& m0 = state[2 * i];
      const auto& v0 = state[2 * i + 1];
      auto m = mx::add(mx::multiply(scalar(b1, m0), m0),
                       mx::multiply(scalar(1.0 - b1, g), g));
      auto v = mx::add(mx::multiply(scalar(b2, v0), v0),
                       mx::multiply(scalar(1.0 - b2, g), mx::square(g)));
      auto m_hat = mx::divide(m, mx::astype(c1, g.dtype()));
      auto v_hat = mx::divide(v, mx::astype(c2, g.dtype()));
      auto u =
          mx::divide(m_hat, mx::add(mx::sqrt(v_hat), scalar(options_.eps, v)));
      u = mx::add(
          u,
          mx::multiply(scalar(detail::as_decimal(options_.weight_decay), w0),
                       w0));
      // trust = ||w|| / ||u||, or 1 when either is 0 (fresh or zero layers).
      auto w_norm = norm32(w0);
      auto u_norm = norm32(u);
      auto zero = mx::array(0.0f);
      auto usable =
          mx::logical_and(mx::greater(w_norm, zero), mx::greater(u_norm, zero));
      auto trust = mx::where(
          usable, mx::divide(w_norm, mx::where(usable, u_norm, one)), one);
      auto scale = mx::astype(mx::multiply(lr32, trust), w0.dtype());
      new_params.push_back(mx::subtract(w0, mx::multiply(scale, u)));
      new_state.push_back(std::move(m));
      new_state.push_back(std::move(v));
    }
    return {std::move(new_params), std::move(new_state)};
  }

private:
  LambOptions options_;
};

} // namespace

std::unique_ptr<Optimizer> make_lamb(const LambOptions& options) {
  constexpr const char* op = "lamb";
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
  return std::make_unique<Lamb>(options);
}

} // namespace mlxt::optim
