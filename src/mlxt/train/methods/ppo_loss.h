// Proximal Policy Optimization's pieces for language models (Schulman et al.
// 2017, "Proximal Policy Optimization Algorithms"; the RLHF form of Ziegler
// et al. 2019, "Fine-Tuning Language Models from Human Preferences"), as
// TRL's PPOTrainer computes them. Each completion is an episode whose steps
// are its tokens.
//
// Rollout phase (host, float64, no gradients):
//   rewards   r_t = -kl_coef kl_t, plus the sequence's score at its last
//             token (the KL penalty in the reward, Ziegler eq. 2)
//   GAE       delta_t = r_t + gamma V_{t+1} - V_t (V past the end = 0),
//             A_t = delta_t + gamma lambda A_{t+1}; returns R_t = A_t + V_t
//             (Schulman et al. 2016, "High-Dimensional Continuous Control
//             Using Generalized Advantage Estimation")
//   whiten    A <- (A - mean) / sqrt(var + 1e-8) over every token of the
//             batch, var unbiased (TRL's masked_whiten)
//   adaptive KL (Ziegler sec. 2.2): e = clip(KL / target - 1, -0.2, 0.2),
//             kl_coef <- kl_coef (1 + e n_steps / horizon)
// Update (the loss, per completion token, masked, summed; count = tokens):
//   policy  max(-A rho, -A clip(rho, 1 - eps, 1 + eps)), rho = exp(logp -
//           logp_old)
//   value   0.5 max((V - R)^2, (clip(V, V_old - eps_v, V_old + eps_v) - R)^2)
//   loss    policy + vf_coef value
#pragma once

#include <string>
#include <vector>

#include <mlx/mlx.h>
#include <nlohmann/json.hpp>

#include "mlxt/models/args.h"
#include "mlxt/nn/layers.h"
#include "mlxt/train/methods/dpo_forward.h"
#include "mlxt/train/step.h"

namespace mlxt::train {

namespace mx = mlx::core;

//! Per-token rewards of one completion (L tokens): -kl_coef kl[t], with
//! `score` added at the last token.
std::vector<double> kl_penalised_rewards(double score,
                                         const std::vector<double>& kl,
                                         double kl_coef);

struct Gae {
  std::vector<double> advantages; // (L,)
  std::vector<double> returns;    // (L,) advantages + values
};

//! Generalized advantage estimation over one completion's rewards and
//! values (each (L,)).
Gae gae(const std::vector<double>& rewards,
        const std::vector<double>& values,
        double gamma,
        double lambda);

//! Whitens every value of `rows` together (mean 0, unit unbiased variance,
//! + 1e-8 in the root), in place.
void whiten(std::vector<std::vector<double>>& rows);

//! Ziegler et al.'s proportional controller of the KL coefficient towards
//! a target KL; its value is checkpointed state.
class AdaptiveKlController {
public:
  AdaptiveKlController(double init, double target, double horizon);
  double value() const { return value_; }
  //! One update after `n_steps` rollout steps (completions) measured
  //! `current_kl` (the mean per-sequence KL).
  void update(double current_kl, double n_steps);
  nlohmann::json state() const;
  void restore(const nlohmann::json& state);

private:
  double value_, target_, horizon_;
};

struct PpoLossOptions {
  double cliprange = 0.2;       // eps of the policy ratio
  double cliprange_value = 0.2; // eps_v of the value prediction
  double vf_coef = 0.1;
};

//! The metric sums ppo_loss_sums returns after the count, in order.
std::vector<std::string> ppo_metric_names();

//! The PPO loss of N rows, every argument (N, T) float32: log-probs now and
//! at sampling (old), values now and at sampling (old_values), advantages,
//! returns, and mask (1 on completion tokens). Returns float32 scalars as
//! a LossFn does: [0] the loss sum, [1] the token count, then the sums of
//! policy_loss, value_loss, clip_fraction (policy ratio clipped where it
//! binds) and value_clip_fraction.
std::vector<mx::array> ppo_loss_sums(const mx::array& logps,
                                     const mx::array& old_logps,
                                     const mx::array& values,
                                     const mx::array& old_values,
                                     const mx::array& advantages,
                                     const mx::array& returns,
                                     const mx::array& mask,
                                     const PpoLossOptions& options);

//! The policy's and the reference's log-probs of `targets` and the value
//! head's estimates, each (N, T) float32 at the target positions, from the
//! inputs (N, T) int32, without gradients: what PPO's sampling pass keeps.
//! The reference as `reference` says (methods/dpo_reference.h); the value
//! head is models::score_tokens over the policy's final hidden states.
struct PpoSamplingPass {
  mx::array logps, ref_logps, values;
};
PpoSamplingPass ppo_sampling_pass(const models::ModelArgs& args,
                                  const Params& weights,
                                  const nn::ForwardContext& forward,
                                  const ReferenceSpec& reference,
                                  const mx::array& inputs,
                                  const mx::array& targets);

//! The PPO loss of a batch of 7 arrays: inputs and targets (N, T) int32,
//! then mask, old_logps, old_values, advantages and returns (N, T) float32
//! (methods/ppo_rollout.h lays them out). One forward pass: the log-probs
//! through the LM head and the values through the value head read the same
//! final hidden states, so the value loss trains the shared adapters too
//! (the value head of Ziegler et al. and TRL's original PPOTrainer).
LossFn ppo_loss(const models::ModelArgs& args,
                const nn::ForwardContext& forward,
                const PpoLossOptions& options);

} // namespace mlxt::train
