// The training step as compiled MLX functions.
//
// MLX's C++ compile captures no state, so everything that changes goes in and
// comes back out: trainable parameters, optimizer state, the update counter,
// the RNG key, and the gradient accumulator. Frozen weights are inputs too
// (not captured constants), so one compiled trace serves every step.
//
// A step over k micro-batches runs accumulate() k-1 times and update() once;
// with k = 1 the whole step (forward, backward, clipping, optimizer) is one
// compiled function. The loss is the token-weighted mean over all micro-batches
// of the step. An update whose loss or gradient norm is not finite is not
// applied (weights, optimizer state and step counter stay as they were).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <mlx/mlx.h>

#include "mlxt/core/params.h"
#include "mlxt/data/batching.h"
#include "mlxt/models/args.h"
#include "mlxt/nn/layers.h"
#include "mlxt/optim/optimizer.h"

namespace mlxt::train {

namespace mx = mlx::core;

struct StepOptions {
  models::ModelArgs args;
  std::vector<std::string> trainable_names; // order of TrainState::trainable
  std::vector<std::string> frozen_names;    // order of TrainState::frozen
  nn::ForwardContext forward; // dtype, LoRA scale/dropout, checkpointing
  std::optional<float> max_grad_norm;
  //! Positions per LM-head chunk in the loss (see chunked_lm_loss_sum);
  //! <= 0 = all at once.
  int loss_chunk_rows = 0;
  //! Batches are packed (data/packing.h): their attention mask and
  //! positions are inputs of the step too.
  bool packed = false;
};

//! Everything a step reads and writes, as arrays.
struct TrainState {
  std::vector<mx::array> trainable;
  std::vector<mx::array> optimizer_state;
  std::vector<mx::array> frozen;
  std::vector<mx::array> grad_accum;         // empty unless accumulating
  mx::array step = mx::array(0, mx::uint64); // updates applied so far
  mx::array key = mx::random::key(0);        // RNG key for dropout
  mx::array accum_tokens = mx::array(0.0f);  // targets in grad_accum

  //! The arrays to evaluate after a step (all of the above).
  std::vector<mx::array> arrays() const;
};

struct StepResult {
  mx::array loss_sum; // float32 scalar: summed token losses of the batch
  mx::array tokens;   // float32 scalar: targets in the batch
  std::optional<mx::array> grad_norm; // after update(): norm before clipping
  //! After update(): bool scalar, false when the loss or gradient norm was
  //! NaN/Inf and the update was therefore not applied.
  std::optional<mx::array> applied;
};

class TrainStep {
public:
  TrainStep(StepOptions options, const optim::Optimizer& optimizer);

  //! Adds the batch's gradient to state.grad_accum (created on first use).
  StepResult accumulate(TrainState& state, const data::Batch& batch);
  //! Adds the batch's gradient and applies one optimizer update.
  StepResult update(TrainState& state, const data::Batch& batch);

private:
  using Fn =
      std::function<std::vector<mx::array>(const std::vector<mx::array>&)>;
  Fn build(bool do_update, bool has_accum) const;
  Params weights(const std::vector<mx::array>& trainable,
                 const std::vector<mx::array>& frozen) const;

  StepOptions options_;
  const optim::Optimizer& optimizer_;
  Fn accumulate_fn_;
  Fn update_fn_;
  Fn update_with_accum_fn_;
};

} // namespace mlxt::train
