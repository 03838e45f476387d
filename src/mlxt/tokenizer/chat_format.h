// Chat formatting around the Jinja engine (jinja/): which of a model's
// chat templates applies and the variables Hugging Face's
// apply_chat_template passes to it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/tokenizer/tokenizer.h"
#include "mlxt/tokenizer/tokenizer_config.h"

namespace mlxt::tokenizer::detail {

//! The ChatML Jinja template (as in HF's chat-templating docs), which
//! train_byte_level_bpe writes into the configs it makes.
inline constexpr std::string_view kChatMlTemplate =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' "
    "+ message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if "
    "add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

using NamedTemplates = std::vector<std::pair<std::string, std::string>>;

//! The template HF picks from `templates`: the only one, else "tool_use"
//! when `with_tools` and it exists, else "default". Throws
//! Error(invalid_model) naming `file` when there is none to pick.
const std::pair<std::string, std::string>& select_chat_template(
    const NamedTemplates& templates, bool with_tools, const std::string& file);

//! What HF's apply_chat_template puts in scope: `messages` (role, content,
//! then each message's `extra` members, which may override those two),
//! `tools` (null when none), `documents` (null), `add_generation_prompt`,
//! the special tokens bos_token / eos_token / pad_token the config names,
//! and then the members of `variables`.
nlohmann::ordered_json
chat_template_variables(const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt,
                        const nlohmann::ordered_json& variables,
                        const nlohmann::ordered_json& tools,
                        const TokenizerConfig& config);

} // namespace mlxt::tokenizer::detail
