#include "mlxt/tokenizer/tokenizer_config.h"

#include "mlxt/tokenizer/json_fields.h"

namespace mlxt::tokenizer::detail {

namespace {

std::optional<std::string> token_name(const json& config,
                                      const std::string& key,
                                      const std::string& file) {
  const json* value = optional_field(config, key);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->is_string()) {
    return value->get<std::string>();
  }
  if (value->is_object()) {
    return as_string(require_field(*value, "content", file, key + ".content"),
                     file,
                     key + ".content");
  }
  fail_invalid(file,
               key,
               "expected a string or {\"content\": ...} but received " +
                   describe_type(*value));
}

std::optional<bool> optional_bool(const json& config,
                                  const std::string& key,
                                  const std::string& file) {
  if (optional_field(config, key) == nullptr) {
    return std::nullopt;
  }
  return bool_field_or(config, key, false, file, key);
}

std::vector<std::pair<std::string, std::string>>
chat_templates(const json& config, const std::string& file) {
  const json* value = optional_field(config, "chat_template");
  if (value == nullptr || value->is_null()) {
    return {};
  }
  if (value->is_string()) {
    return {{"default", value->get<std::string>()}};
  }
  if (value->is_array()) {
    std::vector<std::pair<std::string, std::string>> out;
    for (std::size_t i = 0; i < value->size(); ++i) {
      const std::string key = "chat_template[" + std::to_string(i) + "]";
      const json& entry = (*value)[i];
      out.emplace_back(
          as_string(require_field(entry, "name", file, key + ".name"),
                    file,
                    key + ".name"),
          as_string(require_field(entry, "template", file, key + ".template"),
                    file,
                    key + ".template"));
    }
    return out;
  }
  fail_invalid(file,
               "chat_template",
               "expected a string or a list of {name, template} but received " +
                   describe_type(*value));
}

} // namespace

TokenizerConfig parse_tokenizer_config(const json& config,
                                       const std::string& file) {
  TokenizerConfig out;
  if (config.is_null()) {
    return out;
  }
  if (!config.is_object()) {
    fail_invalid(file,
                 "",
                 "expected a JSON object but received " +
                     describe_type(config));
  }
  out.bos_token = token_name(config, "bos_token", file);
  out.eos_token = token_name(config, "eos_token", file);
  out.pad_token = token_name(config, "pad_token", file);
  out.add_bos_token = optional_bool(config, "add_bos_token", file);
  out.add_eos_token = optional_bool(config, "add_eos_token", file);
  out.chat_templates = chat_templates(config, file);
  return out;
}

} // namespace mlxt::tokenizer::detail
