// Direct Preference Optimization's loss (Rafailov et al. 2023, "Direct
// Preference Optimization: Your Language Model is Secretly a Reward Model")
// and its variants, from per-sequence log-probabilities, as TRL's
// DPOTrainer computes them. With h = (pi_c - ref_c) - (pi_r - ref_r), the
// summed response log-probs of the policy (pi) and the frozen reference
// (ref) on the chosen (c) and rejected (r) answer of each pair:
//   sigmoid  -(1 - ls) log sigmoid(beta h) - ls log sigmoid(-beta h)
//            (ls > 0: conservative DPO, Mitchell 2023)
//   ipo      (h - 1 / (2 beta))^2   (Azar et al. 2023, "A General
//            Theoretical Paradigm to Understand Learning from Human
//            Preferences"; TRL feeds it token-averaged log-probs)
//   hinge    max(0, 1 - beta h)     (SLiC, Zhao et al. 2023)
// Rewards: beta (pi - ref) per answer; accuracy: chosen reward > rejected.
#pragma once

#include <string>
#include <vector>

#include <mlx/mlx.h>

#include "mlxt/config/choices.h"
#include "mlxt/models/args.h"
#include "mlxt/nn/layers.h"
#include "mlxt/train/step.h"

namespace mlxt::train {

struct DpoLossOptions {
  double beta = 0.1;
  double label_smoothing = 0.0;
  config::DpoLossType type = config::DpoLossType::sigmoid;
};

//! The metric sums dpo_loss_sums returns after the count, in order.
std::vector<std::string> dpo_metric_names();

//! The loss over B pairs from per-sequence log-probs, each (B,) float32.
//! Returns float32 scalars as a LossFn does: [0] summed loss, [1] B, then
//! the sums of rewards_chosen, rewards_rejected, reward_margin and
//! reward_accuracy.
std::vector<mx::array> dpo_loss_sums(const mx::array& policy_chosen,
                                     const mx::array& policy_rejected,
                                     const mx::array& ref_chosen,
                                     const mx::array& ref_rejected,
                                     const DpoLossOptions& options);

//! Per-row summed log-probability of the masked targets: (B,) float32.
//! hidden (B, T, D); targets (B, T) int32; mask (B, T) float32.
mx::array sequence_logprobs(const models::ModelArgs& args,
                            const Params& weights,
                            const mx::array& hidden,
                            const mx::array& targets,
                            const mx::array& mask,
                            const nn::ForwardContext& ctx);

//! The DPO loss of a batch of 6 arrays: chosen (inputs, targets, mask) then
//! rejected (inputs, targets, mask), each (B, T_side). The policy reads all
//! of `weights`; the reference reads them without the LoRA adapters (the
//! base model) under stop_gradient; each reads the 2B rows in one forward
//! pass. Counted over pairs.
LossFn dpo_loss(const models::ModelArgs& args,
                const nn::ForwardContext& forward,
                const DpoLossOptions& options);

} // namespace mlxt::train
