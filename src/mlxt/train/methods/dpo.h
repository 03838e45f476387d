// Direct Preference Optimization (Rafailov et al. 2023) and its family as a
// method of the training loop: LoRA, QLoRA or full fine-tuning on preference
// pairs against a frozen reference (methods/dpo_reference.h), or without one
// for simpo and orpo; the losses are methods/dpo_loss.h's, the model-level
// loss methods/dpo_forward.h's, and the reference's log-probs may be
// computed once before training and cached (methods/dpo_ref_cache.h).
#pragma once

#include <memory>

#include "mlxt/config/config.h"
#include "mlxt/train/method.h"

namespace mlxt::train {

//! Opens the model (and the reference), encodes the preference pairs
//! `config` names, and precomputes the reference's log-probs when asked.
//! Throws Error(unsupported) for pack_sequences and streaming, and
//! Error(invalid_config) for a key the loss has no use for (ref_model or
//! precompute_ref_log_probs with simpo/orpo, label_smoothing with ipo, hinge
//! or orpo).
std::unique_ptr<Method> make_dpo_method(const config::TrainConfig& config);

} // namespace mlxt::train
