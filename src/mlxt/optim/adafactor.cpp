// Adafactor, as mlx.optimizers.Adafactor.apply_single, except that the
// relative step is chosen by leaving learning_rate empty (MLX ignores a given
// learning rate unless relative_step=False).
#include <cmath>
#include <utility>

#include "mlxt/optim/decimal.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/update_support.h"

namespace mlxt::optim {

namespace {

using detail::scalar;

// Slots per parameter before the optional first moment.
constexpr size_t kSecondMomentSlots = 3; // v_row, v_col, v

mx::array rms(const mx::array& x) {
  return mx::sqrt(mx::mean(mx::square(x)));
}

class Adafactor final : public Optimizer {
public:
  explicit Adafactor(AdafactorOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "adafactor"; }

  std::vector<mx::array>
  init_state(const std::vector<mx::array>& params) const override {
    std::vector<mx::array> state;
    state.reserve(slots() * params.size());
    for (const auto& p : params) {
      auto unused = mx::zeros({}, p.dtype());
      if (p.ndim() >= 2) {
        // Row means (..., R) and column means (..., C) of g^2.
        mx::Shape rows(p.shape().begin(), p.shape().end() - 1);
        mx::Shape cols(p.shape().begin(), p.shape().end() - 2);
        cols.push_back(p.shape().back());
        state.push_back(mx::zeros(rows, p.dtype()));
        state.push_back(mx::zeros(cols, p.dtype()));
        state.push_back(unused);
      } else {
        state.push_back(unused);
        state.push_back(unused);
        state.push_back(mx::zeros_like(p));
      }
      if (has_first_moment()) {
        state.push_back(mx::zeros_like(p)); // m
      }
    }
    return state;
  }

  std::vector<std::string>
  state_names(const std::vector<std::string>& param_names) const override {
    std::vector<std::string> names;
    names.reserve(slots() * param_names.size());
    for (const auto& n : param_names) {
      for (const char* slot : {".v_row", ".v_col", ".v"}) {
        names.push_back(n + slot);
      }
      if (has_first_moment()) {
        names.push_back(n + ".m");
      }
    }
    return names;
  }

  std::pair<std::vector<mx::array>, std::vector<mx::array>>
  update(const std::vector<mx::array>& params,
         const std::vector<mx::array>& grads,
         const std::vector<mx::array>& state,
         const mx::array& step) const override {
    detail::check_update_inputs("adafactor", params, grads, state, slots());
    const auto t = detail::incremented_step(step);
    const auto rho = relative_step_size(step, t);
    const auto t_decay =
        mx::power(t, mx::array(static_cast<float>(options_.decay_rate)));

    std::vector<mx::array> new_params;
    std::vector<mx::array> new_state(state);
    for (size_t i = 0; i < params.size(); ++i) {
      auto slot = state.begin() + slots() * i;
      std::vector<mx::array> own(slot, slot + slots());
      new_params.push_back(
          update_single(params[i], grads[i], own, rho, t_decay));
      std::copy(own.begin(), own.end(), new_state.begin() + slots() * i);
    }
    return {std::move(new_params), std::move(new_state)};
  }

private:
  bool has_first_moment() const { return options_.beta1 > 0.0f; }
  size_t slots() const {
    return kSecondMomentSlots + (has_first_moment() ? 1 : 0);
  }

  // rho_t in float32: the schedule at the pre-increment step, or MLX's
  // relative step min(1e-2, 1/sqrt(t)) (min(1e-6 t, 1/sqrt(t)) in warm-up).
  mx::array relative_step_size(const mx::array& step,
                               const mx::array& t) const {
    if (options_.learning_rate) {
      return mx::astype(options_.learning_rate(step), mx::float32);
    }
    auto min_step = options_.warmup_init ? mx::multiply(mx::array(1e-6f), t)
                                         : mx::array(1e-2f);
    return mx::minimum(min_step, mx::rsqrt(t));
  }

  // Updates `state` (this parameter's slots) in place; returns the new w.
  mx::array update_single(const mx::array& param,
                          const mx::array& grad,
                          std::vector<mx::array>& state,
                          const mx::array& rho32,
                          const mx::array& t_decay32) const {
    const auto dtype = param.dtype();
    const auto param_rms = rms(param);
    auto alpha = mx::astype(rho32, dtype);
    if (options_.scale_parameter) {
      alpha = mx::multiply(
          mx::maximum(scalar(detail::as_decimal(options_.eps2), param_rms),
                      param_rms),
          alpha);
    }
    // beta2 = 1 - t^decay_rate, rounded to the parameter dtype first (MLX).
    const auto t_decay = mx::astype(t_decay32, dtype);
    const auto beta2 = mx::subtract(scalar(1.0, t_decay), t_decay);
    const auto one_minus_beta2 = mx::subtract(scalar(1.0, beta2), beta2);
    auto g2 = mx::add(mx::square(grad),
                      scalar(detail::as_decimal(options_.eps1), grad));

    mx::array u = grad;
    if (grad.ndim() >= 2) {
      auto row = mx::add(mx::multiply(beta2, state[0]),
                         mx::multiply(one_minus_beta2, mx::mean(g2, -1)));
      auto col = mx::add(mx::multiply(beta2, state[1]),
                         mx::multiply(one_minus_beta2, mx::mean(g2, -2)));
      // v ~ (r / mean(r)) (x) c, the rank-1 estimate of the paper.
      auto r_factor =
          mx::rsqrt(mx::divide(row, mx::mean(row, -1, /*keepdims=*/true)));
      auto c_factor = mx::rsqrt(col);
      u = mx::multiply(mx::multiply(mx::expand_dims(r_factor, -1),
                                    mx::expand_dims(c_factor, -2)),
                       grad);
      state[0] = std::move(row);
      state[1] = std::move(col);
    } else {
      auto v = mx::add(mx::multiply(beta2, state[2]),
                       mx::multiply(one_minus_beta2, g2));
      u = mx::multiply(mx::rsqrt(v), grad);
      state[2] = std::move(v);
    }

    // Update clipping: RMS(u) at most clip_threshold.
    u = mx::divide(u,
                   mx::maximum(scalar(1.0, u),
                               mx::divide(rms(u),
                                          scalar(detail::as_decimal(
                                                     options_.clip_threshold),
                                                 u))));
    u = mx::multiply(alpha, u);

    if (has_first_moment()) {
      const double b1 = detail::as_decimal(options_.beta1);
      auto m = mx::add(mx::multiply(scalar(b1, state[3]), state[3]),
                       mx::multiply(scalar(1.0 - b1, u), u));
      u = m;
      state[3] = std::move(m);
    }

    auto w = param;
    const double wd = detail::as_decimal(options_.weight_decay);
    if (wd != 0.0) {
      w = mx::add(w, mx::multiply(w, mx::multiply(scalar(-wd, alpha), alpha)));
    }
    return mx::subtract(w, u);
  }

  AdafactorOptions options_;
};

} // namespace

std::unique_ptr<Optimizer> make_adafactor(const AdafactorOptions& options) {
  constexpr const char* op = "adafactor";
  auto positive = [](float x) { return std::isfinite(x) && x > 0.0f; };
  detail::check_option(
      op, positive(options.eps1), "eps1 must be finite and > 0", options.eps1);
  detail::check_option(op,
                       std::isfinite(options.eps2) && options.eps2 >= 0.0f,
                       "eps2 must be finite and >= 0",
                       options.eps2);
  detail::check_option(op,
                       positive(options.clip_threshold),
                       "clip_threshold must be finite and > 0",
                       options.clip_threshold);
  detail::check_option(op,
                       options.decay_rate < 0.0f && options.decay_rate >= -1.0f,
                       "decay_rate must be in [-1, 0)",
                       options.decay_rate);
  detail::check_option(op,
                       options.beta1 >= 0.0f && options.beta1 < 1.0f,
                       "beta1 must be in [0, 1)",
                       options.beta1);
  detail::check_option(op,
                       std::isfinite(options.weight_decay) &&
                           options.weight_decay >= 0.0f,
                       "weight_decay must be finite and >= 0",
                       options.weight_decay);
  if (options.warmup_init && options.learning_rate) {
    fail(ErrorCode::invalid_config,
         "[adafactor] warmup_init applies to the relative step only, but a "
         "learning_rate was given; leave learning_rate empty or turn "
         "warmup_init off.");
  }
  return std::make_unique<Adafactor>(options);
}

} // namespace mlxt::optim
