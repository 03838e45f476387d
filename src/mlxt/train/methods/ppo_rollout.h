// One PPO rollout batch on the host, between sampling and the update: each
// completion's sequence with, per completion token, its log-prob and value
// at sampling, its advantage and its return (methods/ppo_loss.h gives the
// formulas: KL-penalised rewards with k1 = logp - logp_ref, GAE, advantages
// whitened over the batch). The batch is trained for ppo_epochs optimizer
// steps, so it is part of a checkpoint (to_json / ppo_rollout_from_json)
// when one falls between them.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/data/batching.h"
#include "mlxt/data/example.h"
#include "mlxt/train/method.h"

namespace mlxt::train {

//! A sampled completion as the sampling pass measured it: per completion
//! token (L of them, in order) the policy's and the reference's log-prob
//! and the value head's estimate; its reward-source score.
struct SampledCompletion {
  data::Example sequence; // prompt + completion, loss_mask 1 on completion
  double score = 0.0;
  std::vector<double> logps, ref_logps, values;
};

struct PpoRow {
  data::Example sequence;
  // One per completion token, in order.
  std::vector<float> old_logps, old_values, advantages, returns;
};

struct PpoRollout {
  std::vector<PpoRow> rows;
  double mean_kl = 0.0;    // per completion: the sum of its tokens' k1
  double mean_score = 0.0; // the reward source's
  double mean_non_score_reward = 0.0; // per completion: -kl_coef sum k1
};

//! The target positions (of a batch T wide) of `e`'s completion tokens, in
//! order: position t predicts token t + 1, so those whose loss_mask[t + 1]
//! is set.
std::vector<int> completion_positions(const data::Example& e, int T);

//! The update targets of `sampled` under the KL weight `kl_coef` and
//! GAE(gamma, lambda). Throws Error(internal) when a row's per-token
//! vectors do not match its completion length.
PpoRollout build_ppo_rollout(const std::vector<SampledCompletion>& sampled,
                             double kl_coef,
                             double gamma,
                             double lambda);

//! The micro-batches of the rollout, `batch_size` rows each in order: the
//! 7 arrays of ppo_loss (inputs, targets, mask, old_logps, old_values,
//! advantages, returns), the per-token values at the mask's positions.
std::vector<MethodBatch> ppo_batches(const PpoRollout& rollout,
                                     const data::BatchOptions& options);

nlohmann::json to_json(const PpoRollout& rollout);
//! Reads what to_json wrote (float values exactly).
PpoRollout ppo_rollout_from_json(const nlohmann::json& state);

} // namespace mlxt::train
