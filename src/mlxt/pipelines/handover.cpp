#include "mlxt/pipelines/handover.h"

#include <filesystem>

#include "mlxt/config/config.h"
#include "mlxt/core/error.h"
#include "mlxt/pipelines/stages.h"

namespace mlxt::pipelines {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool is_full(const json& config) {
  return config::parse_choice<config::FineTuneType>(config.value(
             "fine_tune_type",
             config::to_string(config::TrainConfig{}.fine_tune_type))) ==
         config::FineTuneType::full;
}

// The latest earlier stage whose output is `kind`, or -1.
int latest(const std::vector<EarlierStage>& earlier, StageOutput kind) {
  for (int i = static_cast<int>(earlier.size()) - 1; i >= 0; --i) {
    const StageType* type = find_stage_type(earlier[i].method);
    if (type && type->output == kind) {
      return i;
    }
  }
  return -1;
}

const EarlierStage& source(const std::vector<EarlierStage>& earlier,
                           int i,
                           const std::string& label) {
  if (earlier[i].output_dir.empty()) {
    fail(ErrorCode::invalid_config,
         label + ": stages[" + std::to_string(i) +
             "] left no output to hand over (its job no longer exists)");
  }
  return earlier[i];
}

// Adapters only load into adapters of the same shape, so a LoRA stage
// continuing LoRA adapters keeps the shape settings it does not set.
void inherit_lora_shape(json& config, const json& from) {
  if (!config.contains("num_layers") && !config.contains("lora_layers") &&
      from.contains("num_layers")) {
    config["num_layers"] = from["num_layers"];
  }
  json& lora = config["lora_parameters"];
  if (lora.is_null()) {
    lora = json::object();
  } else if (!lora.is_object()) {
    return; // a wrong type: the config check names it
  }
  const json saved = from.value("lora_parameters", json::object());
  for (const char* key : {"rank", "dropout", "keys"}) {
    if (!lora.contains(key) && saved.contains(key)) {
      lora[key] = saved[key];
    }
  }
  if (!lora.contains("scale") && !lora.contains("alpha") &&
      saved.contains("scale")) {
    lora["scale"] = saved["scale"];
  }
}

// The policy hand-over (see the header).
void hand_over_policy(json& config,
                      const std::vector<EarlierStage>& earlier,
                      const std::string& label) {
  const int i = latest(earlier, StageOutput::policy);
  if (i < 0) {
    fail(ErrorCode::invalid_config,
         label + ".input: \"previous\" needs an earlier stage that trains a "
                 "policy (a reward stage trains a reward model); give "
                 "{\"model\": PATH}");
  }
  const EarlierStage& from = source(earlier, i, label);
  if (is_full(from.config)) {
    config["model"] = from.output_dir;
    return;
  }
  if (config.contains("resume_adapter_file")) {
    fail(ErrorCode::invalid_config,
         label +
             ".config.resume_adapter_file: the stage continues the "
             "adapters of stages[" +
             std::to_string(i) +
             "] (input \"previous\"); remove the key, or give the input as "
             "{\"model\": PATH}");
  }
  config["model"] = from.config["model"];
  config["resume_adapter_file"] =
      (fs::path(from.output_dir) / "adapters.safetensors").string();
  if (!is_full(config)) {
    inherit_lora_shape(config, from.config);
  }
}

} // namespace

json handover_config(const std::string& method,
                     json config,
                     const std::string& input_model,
                     const std::vector<EarlierStage>& earlier,
                     const std::string& label) {
  config["method"] = method;
  if (!input_model.empty()) {
    config["model"] = input_model;
  } else {
    hand_over_policy(config, earlier, label);
  }
  const StageType* type = find_stage_type(method);
  if (type && type->takes_reward_model && !config.contains("reward_model") &&
      !config.contains("reward")) {
    if (const int i = latest(earlier, StageOutput::reward_model); i >= 0) {
      config["reward_model"] = source(earlier, i, label).output_dir;
    }
  }
  return config;
}

} // namespace mlxt::pipelines
