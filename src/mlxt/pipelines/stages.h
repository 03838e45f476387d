// Pipeline stage types and workflow templates.
//
// Stage types are a registry keyed by training method. A method whose
// trainer does not exist yet is listed as unavailable with the reason; a
// pipeline or template that needs it is refused, never simulated.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::pipelines {

struct StageType {
  std::string method;      // "sft", "distillation", "dpo", "reward", "ppo"
  std::string description; // one line
  bool available;          // a trainer for it exists in this build
  std::string reason;      // why not, when unavailable
};

//! Every stage type, available or not.
const std::vector<StageType>& stage_types();
//! The stage type for `method`, or nullptr.
const StageType* find_stage_type(const std::string& method);

struct Template {
  std::string name;                 // "chatbot"
  std::string description;          // one line
  std::vector<std::string> methods; // the stages, in order
};

//! The workflow templates (chatbot, efficient-llm, aligned-model, research).
const std::vector<Template>& templates();
//! The template named `name`, or nullptr.
const Template* find_template(const std::string& name);
//! {"name", "description", "stages", "available", "unavailable_stages":
//! [{"method", "reason"}]}.
nlohmann::json template_json(const Template& t);

} // namespace mlxt::pipelines
