#include "mlxt/pipelines/stages.h"

namespace mlxt::pipelines {

namespace {

const char* kNoTrainer = "no trainer for this method exists in this build "
                         "yet (only sft is implemented)";

} // namespace

const std::vector<StageType>& stage_types() {
  static const std::vector<StageType> types = {
      {"sft", "supervised fine-tuning (full or LoRA)", true, ""},
      {"distillation",
       "knowledge distillation from a teacher",
       false,
       kNoTrainer},
      {"dpo", "direct preference optimisation", false, kNoTrainer},
      {"reward", "reward-model training", false, kNoTrainer},
      {"ppo", "proximal policy optimisation (RLHF)", false, kNoTrainer},
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
