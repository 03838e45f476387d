// Rollouts for online RL: completions sampled from the current policy for a
// batch of prompt rows (each repeated group_size times, in consecutive rows:
// GRPO's groups), decoded for the reward, and laid out as training
// sequences (prompt + completion, the completion's ids the targets).
#pragma once

#include <vector>

#include <mlx/mlx.h>

#include "mlxt/data/example.h"
#include "mlxt/data/prompt_data.h"
#include "mlxt/generate/generate.h"
#include "mlxt/models/model.h"
#include "mlxt/tokenizer/tokenizer.h"
#include "mlxt/train/methods/rewards.h"

namespace mlxt::train {

struct Rollouts {
  //! Per row: the completion and its text, for the reward.
  std::vector<ScoredCompletion> completions;
  //! Per row: prompt + completion ids, loss_mask 1 on the completion's.
  std::vector<data::Example> sequences;
};

//! Samples group_size completions of each prompt with `weights` in one
//! batched generation (generate/batch_generate.h), advancing `key`.
Rollouts sample_rollouts(const models::ModelArgs& args,
                         const Params& weights,
                         const nn::ForwardContext& forward,
                         const tokenizer::Tokenizer& tok,
                         const std::vector<const data::PromptRow*>& prompts,
                         int group_size,
                         const generate::SamplingOptions& sampling,
                         mx::array& key);

} // namespace mlxt::train
