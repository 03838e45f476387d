// Group Relative Policy Optimization (Shao et al. 2024) as a method of the
// training loop: before each optimizer step, num_generations completions of
// each prompt are sampled from the current policy (LoRA or full; batched,
// with the KV cache), scored by the run's reward source (a rule or a reward
// model: methods/model_reward.h), turned into group-normalised advantages,
// and trained with the clipped, KL-regularised objective of
// methods/grpo_loss.h against the frozen reference (methods/dpo_reference.h:
// the base with the adapters off, the starting adapters or weights, or a
// ref_model).
//
// batch_size counts completions per micro-batch (TRL's
// per_device_train_batch_size): batch_size / num_generations prompts, a
// step's prompts taken in a per-epoch seeded order. The rollout RNG key is
// the method's extra state, so a resumed run samples what the uninterrupted
// one did. Validation: greedy completions of the validation prompts; their
// mean reward is reported, and val_loss is its negation (lower is better for
// best-checkpoint retention).
#pragma once

#include <memory>

#include "mlxt/config/config.h"
#include "mlxt/train/method.h"

namespace mlxt::train {

//! Opens the model and encodes the prompt rows `config` names. Throws
//! Error(unsupported) for pack_sequences and streaming,
//! Error(invalid_config) for a batch_size that is not a multiple of
//! num_generations or no room for a prompt within max_seq_length, and
//! Error(invalid_data) for rows of another shape or without the answer
//! the reward needs.
std::unique_ptr<Method> make_grpo_method(const config::TrainConfig& config);

} // namespace mlxt::train
