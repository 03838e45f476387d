// Pipeline stage types and workflow templates.
//
// Stage types are a registry keyed by method. A stage runs `mlxt train
// --method <method>`, so a stage type is available exactly when this build's
// trainer knows that method (config::TrainMethod); until then it is listed
// as unavailable with the reason, and a pipeline or template that needs it
// is refused, never simulated.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::pipelines {

//! What a stage leaves for later stages: a policy (the model the next
//! policy stage continues) or a reward model (a later stage's
//! reward_model).
enum class StageOutput { policy, reward_model };

struct StageType {
  std::string method;      // "sft", "dpo", ...: the trainer's method key
  std::string description; // one line
  std::string data;        // the rows its data holds
  std::string keys;        // its method-specific config keys, or ""
  StageOutput output;
  bool takes_reward_model; // a later stage of the reward model's output
  bool available;          // this build's trainer knows the method
  std::string reason;      // why not, when unavailable
};

//! Every stage type, available or not.
const std::vector<StageType>& stage_types();
//! The stage type for `method`, or nullptr.
const StageType* find_stage_type(const std::string& method);
//! {"method", "description", "data", "keys", "output", "takes_reward_model",
//! "available", "reason"}.
nlohmann::json stage_type_json(const StageType& type);

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
