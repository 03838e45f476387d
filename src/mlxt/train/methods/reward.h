// Reward-model training as a method of the training loop: a scalar head
// (models/scalar_head.h) on the decoder's last non-padding token, trained
// with the Bradley-Terry loss (methods/reward_loss.h) on preference pairs,
// full or LoRA / QLoRA (the head is always trained). The output is a
// sequence-classifier model folder, or adapters plus the head file
// (methods/reward_model.h).
#pragma once

#include <memory>

#include "mlxt/config/config.h"
#include "mlxt/train/method.h"

namespace mlxt::train {

//! Opens the model (a reward-model folder keeps its head; otherwise a fresh
//! head is initialised) and encodes the preference pairs `config` names.
//! Throws Error(unsupported) for pack_sequences and streaming, and
//! Error(invalid_data) for rows that are not preference pairs.
std::unique_ptr<Method> make_reward_method(const config::TrainConfig& config);

} // namespace mlxt::train
