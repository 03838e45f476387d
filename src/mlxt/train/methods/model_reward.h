// The reward source a config names for online RL (grpo, ppo): a reward
// model (reward_model: a folder `method: reward` wrote) or, without one, the
// built-in rule `reward` over each prompt row's answer (methods/rewards.h).
//
// A reward model scores a completion as its validation scored pairs: the
// prompt's ids followed by the completion's (the stop id included when it
// was sampled), read by the score head at the last token. It reads the
// policy's token ids directly, so it must have the policy's vocabulary.
#pragma once

#include <memory>

#include "mlxt/config/config.h"
#include "mlxt/tokenizer/tokenizer.h"
#include "mlxt/train/methods/rewards.h"

namespace mlxt::train {

//! The reward source of `config` for a policy with tokenizer `policy`.
//! Throws Error(invalid_config) naming reward_model when the reward
//! model's vocabulary differs from the policy's.
std::unique_ptr<RewardSource>
make_reward_source(const config::TrainConfig& config,
                   const tokenizer::Tokenizer& policy);

} // namespace mlxt::train
