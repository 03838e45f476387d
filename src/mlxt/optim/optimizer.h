// Optimizers as pure functions over flat parameter lists, so a whole update
// can live inside one compiled MLX step.
//
// State is a flat std::vector<mx::array>: each parameter's slots together,
// in parameter order (AdamW: [m_0, v_0, m_1, v_1, ...]; state_layout.h).
// `step` is the number of updates already applied (0 before the first): the
// learning rate is taken at that step, as MLX's optimizers do, before
// incrementing. Each optimizer below is one formula in the skeleton of
// slot_optimizer.h, which owns the layout, the init and the loop.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <mlx/mlx.h>

#include "mlxt/optim/schedule.h"

namespace mlxt::optim {

namespace mx = mlx::core;

class Optimizer {
public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;
  //! Fresh state for `params` (all zeros, fp32 where params are fp32).
  virtual std::vector<mx::array>
  init_state(const std::vector<mx::array>& params) const = 0;
  //! Names of the state arrays, parallel to init_state's result, for
  //! checkpoints: "<param name>.<slot>" (e.g. "...q_proj.lora_a.m").
  virtual std::vector<std::string>
  state_names(const std::vector<std::string>& param_names) const = 0;
  //! Applies one update. `step` is a uint64/int scalar array (updates done
  //! so far). Returns {new params, new state}. Pure: traceable by compile.
  virtual std::pair<std::vector<mx::array>, std::vector<mx::array>>
  update(const std::vector<mx::array>& params,
         const std::vector<mx::array>& grads,
         const std::vector<mx::array>& state,
         const mx::array& step) const = 0;
};

struct AdamWOptions {
  Schedule learning_rate; // lr as a function of the step
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.01f;   // decoupled; 0 gives Adam
  bool bias_correction = false; // MLX's default is off
};

//! AdamW (Loshchilov & Hutter, 2019, "Decoupled Weight Decay
//! Regularization"), with MLX's conventions: w <- w(1 - lr*wd), then
//! m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, w <- w - lr m/(sqrt(v)+eps);
//! with bias correction: w <- w - (lr/(1-b1^t)) m/(sqrt(v)/sqrt(1-b2^t)+eps),
//! t = step + 1.
std::unique_ptr<Optimizer> make_adamw(const AdamWOptions& options);

struct SgdOptions {
  Schedule learning_rate;
  float momentum = 0.0f;     // mu; 0 disables the velocity
  float weight_decay = 0.0f; // L2, added to the gradient
  float dampening = 0.0f;    // tau
  bool nesterov = false;     // needs momentum > 0 and dampening == 0
};

//! SGD with momentum (Polyak 1964; Nesterov form as in Sutskever et al. 2013),
//! MLX's formula: g <- g + wd*w; v = mu*v + (1-tau)*g; u = g + mu*v if
//! nesterov else v; w <- w - lr*u. With momentum 0: w <- w - lr*g.
//! State per parameter: [v].
std::unique_ptr<Optimizer> make_sgd(const SgdOptions& options);

struct LionOptions {
  Schedule learning_rate;
  float beta1 = 0.9f;
  float beta2 = 0.99f;
  float weight_decay = 0.0f; // decoupled
};

//! Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"),
//! MLX's formula: c = b1*m + (1-b1)*g; m <- b2*m + (1-b2)*g;
//! w <- w(1 - lr*wd) - lr*sign(c). State per parameter: [m].
//! optax.lion computes the same update (its weight_decay defaults to 1e-3).
std::unique_ptr<Optimizer> make_lion(const LionOptions& options);

struct AdafactorOptions {
  //! Empty: MLX's relative step, rho_t = min(1e-2, 1/sqrt(t)) (with
  //! warmup_init, min(1e-6 t, 1/sqrt(t))). Otherwise rho_t = lr(step).
  Schedule learning_rate;
  float eps1 = 1e-30f; // added to g^2
  float eps2 = 1e-3f;  // floor of RMS(w) in the parameter scale
  float clip_threshold = 1.0f;
  float decay_rate = -0.8f;    // beta2_t = 1 - t^decay_rate
  float beta1 = 0.0f;          // first moment of the update; 0 disables it
  float weight_decay = 0.0f;   // w <- w - wd * alpha_t * w
  bool scale_parameter = true; // alpha_t = max(eps2, RMS(w)) * rho_t
  bool warmup_init = false;    // only with the relative step
};

//! Adafactor (Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with
//! Sublinear Memory Cost"), MLX's variant, t = step + 1:
//! beta2 = 1 - t^decay_rate; G = g^2 + eps1. For ndim >= 2 (last two axes
//! R x C): r = beta2 r + (1-beta2) mean_C(G), c = beta2 c + (1-beta2)
//! mean_R(G), u = g * rsqrt(r / mean(r)) (x) rsqrt(c); otherwise v = beta2 v
//! + (1-beta2) G, u = g rsqrt(v). u <- u / max(1, RMS(u)/clip_threshold);
//! u <- alpha_t u; with beta1: m = b1 m + (1-b1) u, u <- m;
//! w <- w - wd alpha_t w - u. State per parameter: [v_row, v_col, v] (the
//! unused ones are scalar zeros), then [m] when beta1 > 0.
//! optax.adafactor (min_dim_size_to_factor=1, momentum=beta1) differs in
//! what cannot be configured: it factors the two largest axes, not the last
//! two; it floors RMS(w) at a fixed 1e-3 rather than eps2; it adds
//! weight_decay_rate * w after the momentum, not scaled by alpha_t; it has no
//! relative step (pass rho_t as its schedule); it rounds beta2_t to float32.
std::unique_ptr<Optimizer> make_adafactor(const AdafactorOptions& options);

struct LambOptions {
  Schedule learning_rate;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-6f;
  float weight_decay = 0.01f;
};

//! LAMB (You et al. 2020, "Large Batch Optimization for Deep Learning:
//! Training BERT in 76 minutes"), per parameter tensor, t = step + 1:
//! m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; u = (m/(1-b1^t)) /
//! (sqrt(v/(1-b2^t)) + eps) + wd w; trust = ||w|| / ||u|| (1 when either
//! norm is 0); w <- w - lr trust u. State per parameter: [m, v].
//! optax.lamb with eps_root=0 computes the same update.
std::unique_ptr<Optimizer> make_lamb(const LambOptions& options);

struct NovoGradOptions {
  Schedule learning_rate;
  float beta1 = 0.95f;
  float beta2 = 0.98f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
};

//! NovoGrad (Ginsburg et al. 2019, "Stochastic Gradient Methods with
//! Layer-wise Adaptive Moments for Training of Deep Networks"), per parameter
//! tensor: v = ||g||^2 at the first step, then v = b2 v + (1-b2) ||g||^2;
//! m = b1 m + (g/(sqrt(v)+eps) + wd w); w <- w - lr m.
//! State per parameter: [m, v] with v a float32 scalar. optax.novograd with
//! eps_root=0 computes the same update (its defaults differ: b1 0.9, b2
//! 0.25, eps 1e-6).
std::unique_ptr<Optimizer> make_novograd(const NovoGradOptions& options);

//! Scales `grads` so their global L2 norm is at most `max_norm`:
//! g *= min(max_norm / (norm + 1e-6), 1). Returns {grads, norm}.
std::pair<std::vector<mx::array>, mx::array>
clip_grad_norm(const std::vector<mx::array>& grads, float max_norm);

//! Global L2 norm of `grads` (fp32 scalar).
mx::array global_norm(const std::vector<mx::array>& grads);

} // namespace mlxt::optim
