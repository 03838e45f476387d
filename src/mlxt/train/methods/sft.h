// Supervised fine-tuning (full, LoRA or QLoRA) as a method of the training
// loop: masked next-token loss over the config's dataset.
#pragma once

#include <memory>

#include "mlxt/config/config.h"
#include "mlxt/train/method.h"

namespace mlxt::train {

//! Opens the model and encodes the data `config` names (the loop then
//! creates the run folder).
std::unique_ptr<Method> make_sft_method(const config::TrainConfig& config);

} // namespace mlxt::train
