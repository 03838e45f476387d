// The DPO family's losses from per-sequence log-probabilities, as TRL's
// DPOTrainer (sigmoid, ipo, hinge, robust), CPOTrainer (simpo) and
// ORPOTrainer (orpo) compute them. For pair i, pi_c / pi_r are the policy's
// log-probs of the chosen / rejected answer and ref_c / ref_r the frozen
// reference's: summed over the answer tokens, or averaged over them (divided
// by the answer length) where the table says "averaged".
//
// With a reference, h = (pi_c - ref_c) - (pi_r - ref_r), ls = label_smoothing:
//   sigmoid  -(1 - ls) log sig(beta h) - ls log sig(-beta h)
//            DPO (Rafailov et al. 2023); ls > 0: conservative DPO (Mitchell
//            2023)
//   robust   (-(1 - ls) log sig(beta h) + ls log sig(-beta h)) / (1 - 2 ls)
//            rDPO, unbiased under flipped labels (Chowdhury et al. 2024)
//   ipo      (h - 1 / (2 beta))^2, averaged log-probs (Azar et al. 2023)
//   hinge    max(0, 1 - beta h)  (SLiC, Zhao et al. 2023)
// Rewards: beta (pi - ref) per answer.
//
// Without a reference (averaged log-probs; rewards beta pi per answer):
//   simpo    with m = beta (pi_c - pi_r) - gamma:
//            -(1 - ls) log sig(m) - ls log sig(-m)  (SimPO, Meng et al. 2024;
//            TRL's CPOTrainer with loss_type simpo and cpo_alpha 0)
//   orpo     NLL - beta log sig(log_odds), log_odds = (pi_c - pi_r) -
//            (log(1 - e^pi_c) - log(1 - e^pi_r)); NLL: the token-mean
//            cross-entropy of the batch's chosen answers, so the batch's loss
//            is NLL + mean_i(-beta log sig(log_odds_i)) (ORPO, Hong et al.
//            2024, beta = lambda)
//
// reward_accuracy: chosen reward > rejected reward.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <mlx/mlx.h>

#include "mlxt/config/choices.h"
#include "mlxt/core/params.h"

namespace mlxt::train {

struct DpoLossOptions {
  double beta = 0.1;
  double label_smoothing = 0.0;
  config::DpoLossType type = config::DpoLossType::sigmoid;
  double simpo_gamma = 0.5; // simpo's target margin
};

//! Whether the loss compares the policy with a reference model (sigmoid,
//! ipo, hinge, robust) or not (simpo, orpo).
bool needs_reference(config::DpoLossType type);

//! Whether the loss reads per-token averaged log-probs (ipo, simpo, orpo)
//! rather than summed ones.
bool averages_log_probs(config::DpoLossType type);

//! A value for each of B pairs' two answers, (B,) float32 each.
struct PairValues {
  mx::array chosen;
  mx::array rejected;
};

//! The metric sums dpo_loss_sums returns after the count, in order:
//! rewards_chosen, rewards_rejected, reward_margin, reward_accuracy, and for
//! orpo also nll_loss and log_odds_ratio (TRL's names).
std::vector<std::string> dpo_metric_names(config::DpoLossType type);

//! The loss over B pairs: `policy` and `reference` hold summed answer
//! log-probs, `lengths` the answer token counts (> 0); `reference` is
//! required exactly when needs_reference(options.type). Returns float32
//! scalars as a LossFn does: [0] summed loss, [1] B, then the sums of
//! dpo_metric_names(options.type).
std::vector<mx::array> dpo_loss_sums(const PairValues& policy,
                                     const std::optional<PairValues>& reference,
                                     const PairValues& lengths,
                                     const DpoLossOptions& options);

} // namespace mlxt::train
