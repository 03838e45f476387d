// Stage hand-over: the training config a pipeline stage runs, from its own
// config and what earlier stages left.
//
// - Policy: a stage whose input is "previous" continues the latest earlier
//   stage that trains a policy (a reward stage does not). After a full
//   fine-tune that stage's output folder is the model (SFT -> DPO: the
//   policy and the reference). After a LoRA stage the model is the same base
//   and the stage starts from its adapters (resume_adapter_file): a LoRA
//   stage takes the adapters' shape (num_layers, lora_parameters) where it
//   does not set it, a full one trains the base with the adapters merged.
// - Reward model: a stage that takes one (ppo, grpo) and names neither
//   reward_model nor reward gets the latest earlier reward stage's output
//   folder as its reward_model.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::pipelines {

//! A stage before the one starting.
struct EarlierStage {
  std::string method;     // its stage type
  nlohmann::json config;  // the resolved training config it ran
  std::string output_dir; // its model or adapters folder; "": none left
};

//! The training config of a stage of type `method`: `config` (which names
//! no model) with "method" and "model" set (`input_model`, or the policy
//! hand-over when it is empty) and the reward-model hand-over. `earlier`:
//! the stages before it, in order. Throws Error(invalid_config) naming
//! `label` when the hand-over has no source (no earlier policy stage, or its
//! job left no output) or would replace the config's own
//! resume_adapter_file.
nlohmann::json handover_config(const std::string& method,
                               nlohmann::json config,
                               const std::string& input_model,
                               const std::vector<EarlierStage>& earlier,
                               const std::string& label);

} // namespace mlxt::pipelines
