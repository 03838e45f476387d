// The reward model's loss: the Bradley-Terry model of pairwise preferences
// (Bradley & Terry 1952), as InstructGPT (Ouyang et al. 2022, eq. 1) trains
// its reward model and TRL's RewardTrainer computes it. With r_c and r_r
// the scalar rewards (models/scalar_head.h) of a pair's chosen and rejected
// answer and m the row's margin (0 when the data has none):
//   loss = -log sigmoid(r_c - r_r - m) + c (r_c + r_r)^2
// where c is center_rewards_coefficient (Eisenstein et al. 2023, "Helping
// or Herding?": it keeps rewards centred on zero; TRL's name and form).
// Reported per pair: rewards_chosen r_c, rewards_rejected r_r,
// reward_margin r_c - r_r, reward_accuracy [r_c > r_r].
#pragma once

#include <vector>

#include <mlx/mlx.h>

#include "mlxt/models/args.h"
#include "mlxt/nn/layers.h"
#include "mlxt/train/step.h"

namespace mlxt::train {

struct RewardLossOptions {
  double center_rewards_coefficient = 0.0;
};

//! The loss over B pairs from their rewards and margins, each (B,) float32.
//! Returns float32 scalars as a LossFn does: [0] summed loss, [1] B, then
//! the sums of the pair metrics (pair_batches.h: rewards_chosen,
//! rewards_rejected, reward_margin, reward_accuracy).
std::vector<mx::array> reward_loss_sums(const mx::array& chosen,
                                        const mx::array& rejected,
                                        const mx::array& margin,
                                        const RewardLossOptions& options);

//! The reward loss of a batch of 3 arrays (reward_batch.h): tokens (2B, T)
//! int32, chosen rows then rejected rows, right-padded; last (2B,) int32,
//! each row's last non-padding position; margin (B,) float32. One forward
//! pass over the 2B rows; the rewards are the score head at `last`. Counted
//! over pairs.
LossFn reward_loss(const models::ModelArgs& args,
                   const nn::ForwardContext& forward,
                   const RewardLossOptions& options);

} // namespace mlxt::train
