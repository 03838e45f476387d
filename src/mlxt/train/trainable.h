// Which parameters a run trains: every weight (full fine-tuning) or LoRA
// adapters over a frozen base.
#pragma once

#include <string>

#include <mlx/mlx.h>

#include "mlxt/config/choices.h"
#include "mlxt/core/params.h"
#include "mlxt/models/model.h"
#include "mlxt/train/lora.h"

namespace mlxt::train {

struct ParamSplit {
  Params trainable;
  Params frozen;
};

struct TrainableOptions {
  config::FineTuneType fine_tune_type = config::FineTuneType::lora;
  mx::Dtype compute_dtype = mx::float32;
  bool master_weights_fp32 = true; // full: trainable copies stay fp32
  LoraSpec lora;
  uint64_t seed = 0; // LoRA A initialisation
};

//! `weights` as a frozen model reads them, each name behind `prefix`:
//! floating arrays in the compute dtype, packed quantized ones as they are.
Params frozen_weights(const Params& weights,
                      mx::Dtype compute_dtype,
                      const std::string& prefix = "");

//! Full: every weight trainable, fp32 (or the compute dtype without master
//! weights). LoRA: the base frozen and stored in the compute dtype, fresh
//! adapters trainable.
ParamSplit split_trainable(const models::Model& model,
                           const TrainableOptions& options);

} // namespace mlxt::train
