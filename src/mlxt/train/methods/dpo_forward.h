// The DPO family's loss at the model level: the policy's and the frozen
// reference's answer log-probs of a batch of preference pairs, each from one
// forward pass over the 2B chosen-then-rejected rows (TRL's
// concatenated_forward), fed to dpo_loss_sums (methods/dpo_loss.h).
//
// A batch is chosen (inputs, targets, mask) then rejected (inputs, targets,
// mask), each (B, T_side); with precomputed reference log-probs, two more
// arrays: the reference's summed log-probs of the chosen and of the rejected
// answers, (B,) float32 each.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <mlx/mlx.h>

#include "mlxt/core/params.h"
#include "mlxt/models/args.h"
#include "mlxt/nn/layers.h"
#include "mlxt/train/methods/dpo_loss.h"
#include "mlxt/train/step.h"

namespace mlxt::train {

//! Frozen arrays of a reference model live in the weight map under this
//! prefix (a separate model's weights, or the starting adapters of LoRA).
inline const std::string kReferencePrefix = "ref.";

//! Where a DPO loss takes the reference's log-probs from.
enum class ReferenceFrom {
  none,             // a reference-free loss (simpo, orpo)
  batch,            // precomputed: batch arrays 6 and 7
  without_adapters, // LoRA: the weights without the trained adapters, with
                    // the "ref." arrays (starting adapters) in their place
  ref_weights,      // a separate frozen model: the "ref." arrays only
};

struct ReferenceSpec {
  ReferenceFrom from = ReferenceFrom::without_adapters;
  //! ref_weights: the reference's architecture (else the policy's is used).
  std::optional<models::ModelArgs> args;
};

//! The weight map the reference reads out of the full map `weights`
//! (from: without_adapters or ref_weights).
Params reference_weights(const Params& weights, ReferenceFrom from);

//! The chosen-then-rejected rows of a batch (its first 6 arrays), each side
//! right-padded to the longer one (padding is never a target).
struct JoinedPairs {
  mx::array inputs;  // (2B, T) int32
  mx::array targets; // (2B, T) int32
  mx::array mask;    // (2B, T) float32
  int pairs = 0;     // B
};
JoinedPairs join_pairs(const std::vector<mx::array>& batch);

//! Per-row summed log-probability of the masked targets, one forward pass:
//! (2B,) float32.
mx::array joined_logprobs(const models::ModelArgs& args,
                          const Params& weights,
                          const JoinedPairs& rows,
                          nn::ForwardContext ctx);

//! The chosen and rejected halves of a (2B,) array.
PairValues split_pairs(const mx::array& joined, int pairs);

//! The loss of a batch (see the header): the policy reads all of `weights`
//! (`args`, `forward`); the reference as `reference` says, under
//! stop_gradient and without LoRA dropout. Counted over pairs; metric sums
//! as dpo_metric_names(options.type).
LossFn dpo_loss(const models::ModelArgs& args,
                const nn::ForwardContext& forward,
                const DpoLossOptions& options,
                const ReferenceSpec& reference);

} // namespace mlxt::train
