// The model a training method trains, as a config describes it: which
// parameters train (full or LoRA over a frozen, possibly quantized base), the
// forward context of the training step, what the run leaves behind, and what
// the run's start line says about it. Every method (SFT, DPO, distillation)
// trains its model through these.
#pragma once

#include <filesystem>
#include <string>

#include <mlx/mlx.h>
#include <nlohmann/json.hpp>

#include "mlxt/config/config.h"
#include "mlxt/core/params.h"
#include "mlxt/models/model.h"
#include "mlxt/nn/layers.h"
#include "mlxt/train/lora.h"
#include "mlxt/train/trainable.h"

namespace mlxt::train {

//! The LoRA settings a config gives.
LoraSpec lora_spec(const config::TrainConfig& config);

//! Seeds MLX's RNG from the config and splits `model` into trainable and
//! frozen arrays as fine_tune_type says (fresh LoRA adapters are seeded).
//! With resume_adapter_file, LoRA training starts from those adapters and
//! full training from the base with them merged; Error(not_found) for a
//! missing file, Error(invalid_model) for adapters of another shape.
ParamSplit split_for_training(const models::Model& model,
                              const config::TrainConfig& config);

//! The forward context of training steps: compute dtype, LoRA scale and
//! dropout (LoRA only), gradient checkpointing.
nn::ForwardContext training_forward(const config::TrainConfig& config);

//! Writes the trained arrays to adapter_path: LoRA adapters in mlx-lm's
//! layout (adapters.safetensors when `final`, else <step>_adapters.
//! safetensors), or a full model folder (step-<n>/ unless `final`) in the
//! base's dtypes with the tokenizer files of `model_dir`. Returns the folder.
std::string save_trained(const config::TrainConfig& config,
                         const models::Model& base,
                         const std::filesystem::path& model_dir,
                         const Params& trained,
                         int step,
                         bool final,
                         const nlohmann::json& run_config);

//! The start-line fields about the model: fine_tune_type and
//! total_parameters (logical elements: a quantized weight counts its
//! unpacked size).
nlohmann::json describe_trained_model(const config::TrainConfig& config,
                                      const models::Model& model);

//! A method whose rows cannot be packed or streamed (`why`, e.g. "keeps
//! each pair in its own rows"): throws Error(unsupported) naming the key
//! when `config` sets pack_sequences or streaming, and `method` in the
//! message.
void refuse_packing_and_streaming(const config::TrainConfig& config,
                                  const std::string& method,
                                  const std::string& why);

//! A "warning" record when the config makes a known-slow choice on this
//! device, naming the faster alternative (QLoRA on the CPU); null otherwise.
nlohmann::json slow_choice_warning(const models::Model& model);

} // namespace mlxt::train
