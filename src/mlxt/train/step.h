// The training step as compiled MLX functions, for any method's loss.
//
// MLX's C++ compile captures no state, so everything that changes goes in and
// comes back out: trainable parameters, optimizer state, the update counter,
// the RNG key, and the gradient accumulator. Frozen weights (the base model,
// and any reference or teacher model a method adds) are inputs too (not
// captured constants), so one compiled trace serves every step.
//
// A method supplies the loss (LossFn) and the arrays of each batch; the step
// owns what every method shares: value_and_grad over the trainable inputs,
// gradient accumulation, the division by the step's total count, global-norm
// clipping, the optimizer update and the non-finite guard.
//
// A step over k micro-batches runs accumulate() k-1 times and update() once;
// with k = 1 the whole step (forward, backward, clipping, optimizer) is one
// compiled function. The loss is the count-weighted mean over all
// micro-batches of the step. An update whose loss or gradient norm is not
// finite is not applied (weights, optimizer state and step counter stay as
// they were).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <mlx/mlx.h>

#include "mlxt/core/params.h"
#include "mlxt/optim/optimizer.h"

namespace mlxt::train {

namespace mx = mlx::core;

//! A method's loss over one micro-batch. `weights`: trainable and frozen
//! arrays by name; `batch`: the method's batch arrays; `dropout_key`: a
//! fresh uint32 (2,) key for this micro-batch. Returns float32 scalars:
//! [0] the summed loss (what is differentiated), [1] what it is a sum over
//! (target tokens, pairs, ...), [2...] metric sums over the same units,
//! reported as sum / count.
using LossFn =
    std::function<std::vector<mx::array>(const Params& weights,
                                         const std::vector<mx::array>& batch,
                                         const mx::array& dropout_key)>;

struct StepOptions {
  std::vector<std::string> trainable_names; // order of TrainState::trainable
  std::vector<std::string> frozen_names;    // order of TrainState::frozen
  LossFn loss;
  int batch_arrays = 0; // how many arrays each batch passes to `loss`
  int metrics = 0;      // how many metric sums `loss` returns after [1]
  std::optional<float> max_grad_norm;
};

//! Everything a step reads and writes, as arrays.
struct TrainState {
  std::vector<mx::array> trainable;
  std::vector<mx::array> optimizer_state;
  std::vector<mx::array> frozen;
  std::vector<mx::array> grad_accum;         // empty unless accumulating
  mx::array step = mx::array(0, mx::uint64); // updates applied so far
  mx::array key = mx::random::key(0);        // RNG key for dropout
  mx::array accum_tokens = mx::array(0.0f);  // loss count in grad_accum

  //! The arrays to evaluate after a step (all of the above).
  std::vector<mx::array> arrays() const;
};

struct StepResult {
  mx::array loss_sum;                 // float32 scalar: the batch's summed loss
  mx::array count;                    // float32 scalar: what it sums over
  std::vector<mx::array> metrics;     // float32 scalars: the method's sums
  std::optional<mx::array> grad_norm; // after update(): norm before clipping
  //! After update(): bool scalar, false when the loss or gradient norm was
  //! NaN/Inf and the update was therefore not applied.
  std::optional<mx::array> applied;
};

class TrainStep {
public:
  TrainStep(StepOptions options, const optim::Optimizer& optimizer);

  //! Adds the batch's gradient to state.grad_accum (created on first use).
  StepResult accumulate(TrainState& state, const std::vector<mx::array>& batch);
  //! Adds the batch's gradient and applies one optimizer update.
  StepResult update(TrainState& state, const std::vector<mx::array>& batch);

private:
  using Fn =
      std::function<std::vector<mx::array>(const std::vector<mx::array>&)>;
  Fn build(bool do_update, bool has_accum) const;
  Params weights(const std::vector<mx::array>& trainable,
                 const std::vector<mx::array>& frozen) const;
  // The compiled function's inputs, in build()'s layout.
  std::vector<mx::array> inputs(const TrainState& state,
                                const std::vector<mx::array>& batch,
                                bool with_optimizer_state) const;

  StepOptions options_;
  const optim::Optimizer& optimizer_;
  Fn accumulate_fn_;
  Fn update_fn_;
  Fn update_with_accum_fn_;
};

} // namespace mlxt::train
