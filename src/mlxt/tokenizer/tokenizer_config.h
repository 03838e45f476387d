// The parts of tokenizer_config.json the tokenizer uses: special-token
// names, whether encode adds BOS/EOS, and the chat template.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::tokenizer::detail {

struct TokenizerConfig {
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  std::optional<std::string> pad_token;
  std::optional<bool> add_bos_token; // empty: the file does not say
  std::optional<bool> add_eos_token;
  //! (name, template) in file order; a plain string is named "default".
  std::vector<std::pair<std::string, std::string>> chat_templates;
};

//! Reads tokenizer_config.json contents; special tokens may be strings or
//! {"content": ...} objects; chat_template may be a string or a list of
//! {"name", "template"} (HF uses "tool_use" when tools are given, else
//! "default").
TokenizerConfig parse_tokenizer_config(const nlohmann::json& config,
                                       const std::string& file);

} // namespace mlxt::tokenizer::detail
