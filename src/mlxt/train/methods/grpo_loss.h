// Group Relative Policy Optimization's objective (Shao et al. 2024,
// "DeepSeekMath: Pushing the Limits of Mathematical Reasoning in Open
// Language Models", eq. 3), as TRL's GRPOTrainer computes it.
//
// Advantages: G completions of one prompt form a group with rewards r;
//   A_i = (r_i - mean(r_group)) / (std(r) + 1e-4)
// std over the group (scale_rewards: group), the whole generation batch
// (batch), or no division (none); std is the unbiased (n - 1) one, as
// torch.std.
//
// Per completion token t of row i, with the ratio rho = exp(logp - logp_old)
// (1 with a detached value on-policy) and d = logp_ref - logp:
//   l_it = -min(rho A_i, clip(rho, 1 - eps, 1 + eps_high) A_i)
//          + kl_coef (exp(d) - d - 1)
// the KL term being Schulman's k3 estimator of KL(pi || pi_ref). The loss
// normalises the masked sum (TRL's loss_type):
//   grpo     sum_i (sum_t l_it / |o_i|)                    over N rows
//   dapo     sum_{i,t} l_it                  over the step's completion tokens
//   dr_grpo  sum_{i,t} l_it / max_completion_length        over N rows
// (Dr. GRPO: Liu et al. 2025; DAPO: Yu et al. 2025). The loop divides by the
// step's total count, so dapo normalises over every micro-batch of a step,
// as TRL's dapo over the accumulated batch. Metrics in the same units:
// kl (the k3 value), clip_fraction (tokens whose ratio was clipped where it
// binds: rho < 1 - eps with A < 0, or rho > 1 + eps_high with A > 0).
#pragma once

#include <string>
#include <vector>

#include <mlx/mlx.h>

#include "mlxt/config/choices.h"
#include "mlxt/models/args.h"
#include "mlxt/nn/layers.h"
#include "mlxt/train/methods/dpo_forward.h"
#include "mlxt/train/step.h"

namespace mlxt::train {

struct GrpoLossOptions {
  double epsilon = 0.2;
  double epsilon_high = 0.2;
  double kl_coef = 0.04;
  config::GrpoLossType type = config::GrpoLossType::dapo;
  int max_completion_length = 256; // dr_grpo's constant
};

//! Group-normalised advantages of `rewards` (N, groups of `group_size`
//! consecutive rows), in float64.
std::vector<double> group_advantages(const std::vector<double>& rewards,
                                     int group_size,
                                     config::RewardScaling scaling);

//! The metric sums grpo_loss_sums returns after the count, in order.
std::vector<std::string> grpo_metric_names();

//! The loss of N rows from per-token log-probs of the policy, the policy
//! that sampled them (old) and the reference, each (N, T) float32;
//! advantages (N,) float32; mask (N, T) float32 (1 on completion tokens).
//! Returns float32 scalars as a LossFn does: [0] the normalised loss sum,
//! [1] its count (rows, or tokens for dapo), then the kl and clip_fraction
//! sums in the same units.
std::vector<mx::array> grpo_loss_sums(const mx::array& logps,
                                      const mx::array& old_logps,
                                      const mx::array& ref_logps,
                                      const mx::array& advantages,
                                      const mx::array& mask,
                                      const GrpoLossOptions& options);

//! logits (N, T, V) -> log-probabilities of `targets` (N, T) int32 under
//! them: (N, T) float32.
mx::array token_logprobs(const mx::array& logits, const mx::array& targets);

//! The reference's log-probs of `targets` (N, T) from `inputs` (N, T):
//! (N, T) float32 under stop_gradient, without dropout, from the arrays of
//! `weights` that `reference` names (methods/dpo_forward.h).
mx::array reference_token_logprobs(const models::ModelArgs& args,
                                   const Params& weights,
                                   const ReferenceSpec& reference,
                                   const nn::ForwardContext& forward,
                                   const mx::array& inputs,
                                   const mx::array& targets);

//! The GRPO loss of a batch of 4 arrays: inputs (N, T) int32, targets
//! (N, T) int32, mask (N, T) float32 on completion targets, advantages (N,)
//! float32. On-policy: the sampling policy is the current one (old = the
//! policy's log-probs detached, TRL's num_iterations = 1). The reference
//! as `reference` says (methods/dpo_reference.h), under stop_gradient.
LossFn grpo_loss(const models::ModelArgs& args,
                 const nn::ForwardContext& forward,
                 const GrpoLossOptions& options,
                 const ReferenceSpec& reference);

} // namespace mlxt::train
