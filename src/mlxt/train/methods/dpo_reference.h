// The frozen reference model of a DPO run (and of the online-RL methods,
// grpo and ppo, whose KL term reads it), as its config names it:
//   - ref_model: a separate folder or GGUF (the policy's vocabulary), its
//     weights frozen under "ref." and read with its own architecture;
//   - LoRA without ref_model: the base with the trained adapters switched
//     off (no copy), plus a frozen copy of the resume_adapter_file adapters
//     when the run starts from adapters (an SFT -> DPO hand-over), so the
//     reference is the starting policy;
//   - full fine-tuning without ref_model: a frozen copy of the starting
//     weights (with the resume_adapter_file adapters merged, when given) in
//     the compute dtype.
// Reference-free DPO losses (simpo, orpo) have none.
#pragma once

#include <string>

#include "mlxt/config/config.h"
#include "mlxt/gguf/model_source.h"
#include "mlxt/train/methods/dpo_forward.h"
#include "mlxt/train/trainable.h"

namespace mlxt::train {

struct DpoReference {
  ReferenceSpec spec;
  //! The "ref."-prefixed arrays to hold frozen beside the policy's.
  Params frozen;
};

//! Which reference `config` names, for the start record: "none",
//! "ref_model", "starting_weights", "base_with_starting_adapters" or
//! "base_without_adapters".
std::string reference_kind(const config::TrainConfig& config);

//! Builds the reference for the opened `policy` and its training split.
//! Throws Error(invalid_config) naming ref_model when its vocabulary
//! differs from the policy's (checked token by token).
DpoReference make_reference(const config::TrainConfig& config,
                            const gguf::ModelWithTokenizer& policy,
                            const ParamSplit& split);

//! A digest of the reference's weights (file contents) and how they are
//! read (kind, compute dtype, LoRA scale): the precomputed log-probs' cache
//! key part for the reference.
std::string reference_identity(const config::TrainConfig& config);

} // namespace mlxt::train
