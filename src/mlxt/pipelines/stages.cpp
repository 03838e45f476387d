#include "mlxt/pipelines/stages.h"

#include "mlxt/config/choices.h"

namespace mlxt::pipelines {

namespace {

const char* kPreferenceRows =
    "preference rows: prompt, chosen, rejected (or HH-RLHF pairs, or message "
    "pairs)";
const char* kPromptRows = "prompt rows: a prompt, or messages ending with a "
                          "user turn; an optional answer for verifiable "
                          "rewards";

// Listed in the order GET /v1/templates shows them.
StageType stage(std::string method,
                std::string description,
                std::string data,
                std::string keys,
                StageOutput output = StageOutput::policy,
                bool takes_reward_model = false) {
  const bool available =
      config::parse_choice<config::TrainMethod>(method).has_value();
  std::string reason = available
                           ? ""
                           : "no trainer for method \"" + method +
                                 "\" in this build yet (mlxt train --method " +
                                 method + " does not exist)";
  return {std::move(method),
          std::move(description),
          std::move(data),
          std::move(keys),
          output,
          takes_reward_model,
          available,
          std::move(reason)};
}

} // namespace

const std::vector<StageType>& stage_types() {
  static const std::vector<StageType> types = {
      stage("sft",
            "supervised fine-tuning (full or LoRA)",
            "supervised rows: messages, prompt/completion or text",
            ""),
      stage("distillation",
            "knowledge distillation from a teacher",
            "supervised rows",
            ""),
      stage("dpo",
            "direct preference optimisation against a frozen reference",
            kPreferenceRows,
            "beta, label_smoothing, loss_type"),
      stage("reward",
            "reward-model training (a scalar head, Bradley-Terry loss)",
            kPreferenceRows,
            "",
            StageOutput::reward_model),
      stage("ppo",
            "proximal policy optimisation with rollouts (RLHF)",
            kPromptRows,
            "reward_model or reward",
            StageOutput::policy,
            true),
      stage("grpo",
            "group relative policy optimisation with rollouts",
            kPromptRows,
            "reward_model or reward",
            StageOutput::policy,
            true),
  };
  return types;
}

const StageType* find_stage_type(const std::string& method) {
  for (const auto& t : stage_types()) {
    if (t.method == method) {
      return &t;
    }
  }
  return nullptr;
}

nlohmann::json stage_type_json(const StageType& t) {
  return {
      {"method", t.method},
      {"description", t.description},
      {"data", t.data},
      {"keys", t.keys},
      {"output", t.output == StageOutput::policy ? "policy" : "reward_model"},
      {"takes_reward_model", t.takes_reward_model},
      {"available", t.available},
      {"reason", t.reason}};
}

const std::vector<Template>& templates() {
  static const std::vector<Template> list = {
      {"chatbot",
       "an assistant: instruction tuning, then preference alignment",
       {"sft", "dpo"}},
      {"efficient-llm",
       "a small fast model: distil a teacher, then instruction-tune",
       {"distillation", "sft"}},
      {"aligned-model",
       "an aligned model distilled into a smaller one",
       {"sft", "dpo", "distillation"}},
      {"research",
       "the full sequence for experiments",
       {"sft", "distillation", "dpo", "ppo"}},
  };
  return list;
}

const Template* find_template(const std::string& name) {
  for (const auto& t : templates()) {
    if (t.name == name) {
      return &t;
    }
  }
  return nullptr;
}

nlohmann::json template_json(const Template& t) {
  nlohmann::json missing = nlohmann::json::array();
  for (const auto& method : t.methods) {
    const StageType* type = find_stage_type(method);
    if (!type->available) {
      missing.push_back({{"method", method}, {"reason", type->reason}});
    }
  }
  return {{"name", t.name},
          {"description", t.description},
          {"stages", t.methods},
          {"available", missing.empty()},
          {"unavailable_stages", missing}};
}

} // namespace mlxt::pipelines
