// Direct Preference Optimization (Rafailov et al. 2023) as a method of the
// training loop: LoRA adapters trained on preference pairs against the same
// base with the adapters switched off as the frozen reference
// (methods/dpo_loss.h has the loss and its variants).
#pragma once

#include <memory>

#include "mlxt/config/config.h"
#include "mlxt/train/method.h"

namespace mlxt::train {

//! Opens the model and encodes the preference pairs `config` names. Throws
//! Error(unsupported) for full fine-tuning (no frozen reference copy yet),
//! pack_sequences and streaming.
std::unique_ptr<Method> make_dpo_method(const config::TrainConfig& config);

} // namespace mlxt::train
