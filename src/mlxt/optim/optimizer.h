// Optimizers as pure functions over flat parameter lists, so a whole update
// can live inside one compiled MLX step.
//
// State is a flat std::vector<mx::array> whose layout the optimizer owns
// (e.g. AdamW: [m_0, v_0, m_1, v_1, ...]). `step` is the number of updates
// already applied (0 before the first): the learning rate is taken at that
// step, as MLX's optimizers do, before incrementing.
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

//! Scales `grads` so their global L2 norm is at most `max_norm`:
//! g *= min(max_norm / (norm + 1e-6), 1). Returns {grads, norm}.
std::pair<std::vector<mx::array>, mx::array>
clip_grad_norm(const std::vector<mx::array>& grads, float max_norm);

//! Global L2 norm of `grads` (fp32 scalar).
mx::array global_norm(const std::vector<mx::array>& grads);

} // namespace mlxt::optim
