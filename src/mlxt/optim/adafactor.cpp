// Adafactor's formula, as mlx.optimizers.Adafactor.apply_single, except that
// the relative step is chosen by leaving learning_rate empty (MLX ignores a
// given learning rate unless relative_step=False). The loop, state layout
// and checks are slot_optimizer.h's.
#include <cmath>
#include <utility>

#include "mlxt/optim/decimal.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/slot_optimizer.h"
#include "mlxt/optim/update_support.h"

namespace mlxt::optim {

namespace {

using detail::scalar;
using detail::Slots;

mx::array rms(const mx::array& x) {
  return mx::sqrt(mx::mean(mx::square(x)));
}

// Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear
// Memory Cost" (the formula in optimizer.h). Slots: v_row (..., R) and v_col
// (..., C) for a param (..., R, C), else v shaped as the param (the unused
// ones are () zeros); then m shaped as the param when beta1 > 0. All in the
// param's dtype.
struct Adafactor {
  static constexpr const char* kName = "adafactor";
  AdafactorOptions options;

  struct Step {
    mx::array rho;     // () float32, the relative step size rho_t
    mx::array t_decay; // () float32, t^decay_rate with t = step + 1
  };

  bool has_first_moment() const { return options.beta1 > 0.0f; }

  std::vector<std::string> slot_names() const {
    std::vector<std::string> names{"v_row", "v_col", "v"};
    if (has_first_moment()) {
      names.push_back("m");
    }
    return names;
  }

  Slots init_single(const mx::array& p) const {
    Slots slots;
    auto unused = mx::zeros({}, p.dtype());
    if (p.ndim() >= 2) {
      // Row means (..., R) and column means (..., C) of g^2.
      mx::Shape rows(p.shape().begin(), p.shape().end() - 1);
      mx::Shape cols(p.shape().begin(), p.shape().end() - 2);
      cols.push_back(p.shape().back());
      slots = {mx::zeros(rows, p.dtype()), mx::zeros(cols, p.dtype()), unused};
    } else {
      slots = {unused, unused, mx::zeros_like(p)};
    }
    if (has_first_moment()) {
      slots.push_back(mx::zeros_like(p)); // m
    }
    return slots;
  }

  Step at_step(const mx::array& step) const {
    const auto t = detail::incremented_step(step);
    return {relative_step_size(step, t),
            mx::power(t, mx::array(static_cast<float>(options.decay_rate)))};
  }

  // rho_t in float32: the schedule at the pre-increment step, or MLX's
  // relative step min(1e-2, 1/sqrt(t)) (min(1e-6 t, 1/sqrt(t)) in warm-up).
  mx::array relative_step_size(const mx::array& step,
                               const mx::array& t) const {
    if (options.learning_rate) {
      return detail::learning_rate_at(options.learning_rate, step);
    }
    auto min_step = options.warmup_init ? mx::multiply(mx::array(1e-6f), t)
                                        : mx::array(1e-2f);
    return mx::minimum(min_step, mx::rsqrt(t));
  }

  mx::array apply_single(const mx::array& param,
                         const mx::array& grad,
                         Slots& state,
                         const Step& at) const {
    const auto dtype = param.dtype();
    const auto param_rms = rms(param);
    auto alpha = mx::astype(at.rho, dtype);
    if (options.scale_parameter) {
      alpha = mx::multiply(
          mx::maximum(scalar(detail::as_decimal(options.eps2), param_rms),
                      param_rms),
          alpha);
    }
    // beta2 = 1 - t^decay_rate, rounded to the parameter dtype first (MLX).
    const auto t_decay = mx::astype(at.t_decay, dtype);
    const auto beta2 = mx::subtract(scalar(1.0, t_decay), t_decay);
    const auto one_minus_beta2 = mx::subtract(scalar(1.0, beta2), beta2);
    auto g2 = mx::add(mx::square(grad),
                      scalar(detail::as_decimal(options.eps1), grad));

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
    u = mx::divide(
        u,
        mx::maximum(
            scalar(1.0, u),
            mx::divide(rms(u),
                       scalar(detail::as_decimal(options.clip_threshold), u))));
    u = mx::multiply(alpha, u);

    if (has_first_moment()) {
      const double b1 = detail::as_decimal(options.beta1);
      auto m = mx::add(mx::multiply(scalar(b1, state[3]), state[3]),
                       mx::multiply(scalar(1.0 - b1, u), u));
      u = m;
      state[3] = std::move(m);
    }

    auto w = param;
    const double wd = detail::as_decimal(options.weight_decay);
    if (wd != 0.0) {
      w = mx::add(w, mx::multiply(w, mx::multiply(scalar(-wd, alpha), alpha)));
    }
    return mx::subtract(w, u);
  }
};

} // namespace

std::unique_ptr<Optimizer> make_adafactor(const AdafactorOptions& options) {
  constexpr const char* op = Adafactor::kName;
  auto positive = [](float x) { return std::isfinite(x) && x > 0.0f; };
  detail::check_option(
      op, positive(options.eps1), "eps1 must be finite and > 0", options.eps1);
  detail::check_non_negative(op, "eps2", options.eps2);
  detail::check_option(op,
                       positive(options.clip_threshold),
                       "clip_threshold must be finite and > 0",
                       options.clip_threshold);
  detail::check_option(op,
                       options.decay_rate < 0.0f && options.decay_rate >= -1.0f,
                       "decay_rate must be in [-1, 0)",
                       options.decay_rate);
  detail::check_beta(op, "beta1", options.beta1);
  detail::check_non_negative(op, "weight_decay", options.weight_decay);
  if (options.warmup_init && options.learning_rate) {
    fail(ErrorCode::invalid_config,
         "[adafactor] warmup_init applies to the relative step only, but a "
         "learning_rate was given; leave learning_rate empty or turn "
         "warmup_init off.");
  }
  return detail::make_slot_optimizer<Adafactor>(options);
}

} // namespace mlxt::optim
