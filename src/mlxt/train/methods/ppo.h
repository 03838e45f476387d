// Proximal Policy Optimization for language models (Schulman et al. 2017;
// the RLHF form of Ziegler et al. 2019, as TRL's PPOTrainer) as a method of
// the training loop. Every ppo_epochs optimizer steps a rollout batch is
// sampled from the current policy (one completion per prompt, batched
// with the KV cache), scored by the run's reward source (a rule over each
// row's answer, or a reward model: methods/model_reward.h) and measured in
// one pass without gradients: the policy's and the reference's log-probs
// (the frozen reference of methods/dpo_reference.h: for LoRA the base with
// the adapters off, or with the starting adapters; for full fine-tuning a
// copy of the starting weights; or a ref_model) and the value head's
// estimates. The host turns them into KL-penalised per-token rewards, GAE
// advantages (whitened over the batch) and returns (methods/ppo_rollout.h);
// the ppo_epochs steps then train the clipped policy and value losses of
// methods/ppo_loss.h on that batch, in the same micro-batch order each time.
//
// The value head is a linear map of the policy's final hidden states,
// `score.weight` (1, hidden) in float32, trained with the adapters and kept
// in checkpoints but not in the saved adapters. batch_size counts
// completions per micro-batch; a rollout holds batch_size x
// grad_accumulation_steps prompts, taken in a per-epoch seeded order. With
// kl_target the KL weight adapts after each rollout (Ziegler et al.'s
// controller). The rollout RNG key, the controller's value and a rollout
// batch still being trained are the method's checkpointed state, so a
// resumed run continues bit-identically. Validation: greedy completions of
// the validation prompts, their mean reward (val_loss its negation).
#pragma once

#include <memory>

#include "mlxt/config/config.h"
#include "mlxt/train/method.h"

namespace mlxt::train {

//! Opens the model (and the reward model) and encodes the prompt rows.
//! Throws Error(unsupported) for pack_sequences and streaming,
//! Error(invalid_config) for no room for a prompt within max_seq_length or a
//! reward model of another vocabulary, and Error(invalid_data) for rows of
//! another shape or, with a rule reward, without the answer it needs.
std::unique_ptr<Method> make_ppo_method(const config::TrainConfig& config);

} // namespace mlxt::train
