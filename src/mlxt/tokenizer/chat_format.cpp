#include "mlxt/tokenizer/chat_format.h"

#include "mlxt/core/error.h"

namespace mlxt::tokenizer::detail {

const std::pair<std::string, std::string>& select_chat_template(
    const NamedTemplates& templates, bool with_tools, const std::string& file) {
  if (templates.empty()) {
    fail(ErrorCode::invalid_model,
         "the tokenizer has no chat_template; add one to tokenizer_config.json "
         "or a chat_template.jinja beside it",
         {.file = file, .line = 0, .key = "chat_template"});
  }
  if (templates.size() == 1) {
    return templates.front();
  }
  for (const char* wanted : {"tool_use", "default"}) {
    if (std::string(wanted) == "tool_use" && !with_tools) {
      continue;
    }
    for (const auto& entry : templates) {
      if (entry.first == wanted) {
        return entry;
      }
    }
  }
  std::string names;
  for (const auto& entry : templates) {
    names += (names.empty() ? "" : ", ") + entry.first;
  }
  fail(ErrorCode::invalid_model,
       "the config has several chat templates (" + names +
           ") and none is named \"default\"",
       {.file = file, .line = 0, .key = "chat_template"});
}

nlohmann::ordered_json
chat_template_variables(const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt,
                        const nlohmann::ordered_json& variables,
                        const nlohmann::ordered_json& tools,
                        const TokenizerConfig& config) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const ChatMessage& m : messages) {
    nlohmann::ordered_json message = {{"role", m.role}, {"content", m.content}};
    if (m.extra.is_object()) {
      for (const auto& [key, value] : m.extra.items()) {
        message[key] = value;
      }
    }
    list.push_back(std::move(message));
  }
  nlohmann::ordered_json out = {
      {"messages", std::move(list)},
      {"tools", tools},
      {"documents", nullptr},
      {"add_generation_prompt", add_generation_prompt}};
  const std::pair<const char*, const std::optional<std::string>*> specials[] = {
      {"bos_token", &config.bos_token},
      {"eos_token", &config.eos_token},
      {"pad_token", &config.pad_token}};
  for (const auto& [name, token] : specials) {
    if (*token) {
      out[name] = **token;
    }
  }
  if (variables.is_object()) {
    for (const auto& [key, value] : variables.items()) {
      out[key] = value;
    }
  }
  return out;
}

} // namespace mlxt::tokenizer::detail
