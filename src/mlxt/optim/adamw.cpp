// AdamW as a pure function of (params, grads, state, step), copying
// mlx.optimizers.AdamW / Adam.apply_single operation for operation so results
// match MLX's Python optimizer.
#include <cmath>
#include <string>
#include <utility>

#include "mlxt/core/error.h"
#include "mlxt/optim/decimal.h"
#include "mlxt/optim/optimizer.h"

namespace mlxt::optim {

namespace {

// A scalar in `like`'s dtype: MLX's Python scalars are weakly typed, so
// `b1 * m` keeps m's dtype (bf16 stays bf16).
mx::array scalar(double value, const mx::array& like) {
  return mx::array(static_cast<float>(value), like.dtype());
}

class AdamW final : public Optimizer {
public:
  explicit AdamW(AdamWOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "adamw"; }

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
    check_layout(params, grads, state);
    // MLX evaluates the schedule at the step before incrementing it, and
    // bias-corrects with the incremented step t = step + 1.
    const auto lr32 = mx::astype(options_.learning_rate(step), mx::float32);
    const auto t = mx::add(mx::astype(step, mx::float32), mx::array(1.0f));

    std::vector<mx::array> new_params;
    std::vector<mx::array> new_state;
    new_params.reserve(params.size());
    new_state.reserve(state.size());
    for (size_t i = 0; i < params.size(); ++i) {
      auto [p, m, v] = update_single(
          params[i], grads[i], state[2 * i], state[2 * i + 1], lr32, t);
      new_params.push_back(std::move(p));
      new_state.push_back(std::move(m));
      new_state.push_back(std::move(v));
    }
    return {std::move(new_params), std::move(new_state)};
  }

private:
  struct Single {
    mx::array param;
    mx::array m;
    mx::array v;
  };

  Single update_single(const mx::array& param,
                       const mx::array& grad,
                       const mx::array& m0,
                       const mx::array& v0,
                       const mx::array& lr32,
                       const mx::array& t) const {
    const double b1 = detail::as_decimal(options_.beta1);
    const double b2 = detail::as_decimal(options_.beta2);
    const auto lr = mx::astype(lr32, grad.dtype());

    // Decoupled decay first (AdamW): w <- w * (1 - lr * wd).
    auto w = mx::multiply(
        param,
        mx::subtract(
            scalar(1.0, lr),
            mx::multiply(
                lr, scalar(detail::as_decimal(options_.weight_decay), lr))));

    // m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2.
    auto m = mx::add(mx::multiply(scalar(b1, m0), m0),
                     mx::multiply(scalar(1.0 - b1, grad), grad));
    auto v = mx::add(mx::multiply(scalar(b2, v0), v0),
                     mx::multiply(scalar(1.0 - b2, grad), mx::square(grad)));

    if (options_.bias_correction) {
      // w -= (lr / (1 - b1^t)) m / (sqrt(v) * rsqrt(1 - b2^t) + eps).
      auto one = mx::array(1.0f);
      auto c1 = mx::astype(
          mx::divide(lr, mx::subtract(one, mx::power(mx::array(float(b1)), t))),
          grad.dtype());
      auto c2 = mx::astype(
          mx::rsqrt(mx::subtract(one, mx::power(mx::array(float(b2)), t))),
          grad.dtype());
      auto denominator =
          mx::add(mx::multiply(mx::sqrt(v), c2), scalar(options_.eps, v));
      w = mx::subtract(w, mx::divide(mx::multiply(c1, m), denominator));
    } else {
      // w -= lr m / (sqrt(v) + eps).
      auto denominator = mx::add(mx::sqrt(v), scalar(options_.eps, v));
      w = mx::subtract(w, mx::divide(mx::multiply(lr, m), denominator));
    }
    return {std::move(w), std::move(m), std::move(v)};
  }

  // A mismatch here is a caller bug, not a user mistake.
  static void check_layout(const std::vector<mx::array>& params,
                           const std::vector<mx::array>& grads,
                           const std::vector<mx::array>& state) {
    if (grads.size() != params.size() || state.size() != 2 * params.size()) {
      fail(ErrorCode::internal,
           "[adamw] expected " + std::to_string(params.size()) +
               " gradients and " + std::to_string(2 * params.size()) +
               " state arrays for " + std::to_string(params.size()) +
               " parameters, but received " + std::to_string(grads.size()) +
               " and " + std::to_string(state.size()) + ".");
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const auto& shape = params[i].shape();
      if (grads[i].shape() != shape || state[2 * i].shape() != shape ||
          state[2 * i + 1].shape() != shape) {
        fail(ErrorCode::internal,
             "[adamw] parameter " + std::to_string(i) +
                 ": gradient or state shape differs from the parameter's.");
      }
    }
  }

  AdamWOptions options_;
};

void check_option(bool ok, const std::string& what, float received) {
  if (!ok) {
    fail(ErrorCode::invalid_config,
         "[adamw] " + what + ", but received " + std::to_string(received) +
             ".");
  }
}

} // namespace

std::unique_ptr<Optimizer> make_adamw(const AdamWOptions& options) {
  if (!options.learning_rate) {
    fail(ErrorCode::invalid_config,
         "[adamw] learning_rate is empty; pass a schedule such as "
         "constant_schedule(1e-5).");
  }
  check_option(options.beta1 >= 0.0f && options.beta1 < 1.0f,
               "beta1 must be in [0, 1)",
               options.beta1);
  check_option(options.beta2 >= 0.0f && options.beta2 < 1.0f,
               "beta2 must be in [0, 1)",
               options.beta2);
  check_option(std::isfinite(options.eps) && options.eps >= 0.0f,
               "eps must be finite and >= 0",
               options.eps);
  check_option(std::isfinite(options.weight_decay) &&
                   options.weight_decay >= 0.0f,
               "weight_decay must be finite and >= 0",
               options.weight_decay);
  return std::make_unique<AdamW>(options);
}

} // namespace mlxt::optim
