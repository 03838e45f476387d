// Chat formatting. This version renders exactly one template, the standard
// ChatML one, without a Jinja engine: a template counts as renderable only
// when it is that template's text, character for character.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mlxt/tokenizer/tokenizer.h"

namespace mlxt::tokenizer::detail {

//! The ChatML Jinja template (as in HF's chat-templating docs), written by
//! train_byte_level_bpe and the one template render_chatml reproduces. The
//! Jinja string literals hold real newline characters, as the docs' Python
//! source does; Jinja renders them the same as a "\\n" escape.
inline constexpr std::string_view kChatMlTemplate =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' "
    "+ message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if "
    "add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

//! True when `chat_template` is exactly kChatMlTemplate.
bool is_chatml_template(std::string_view chat_template);

//! What HF renders with kChatMlTemplate: "<|im_start|>{role}\n{content}
//! <|im_end|>\n" per message, then "<|im_start|>assistant\n" when
//! add_generation_prompt.
std::string render_chatml(const std::vector<ChatMessage>& messages,
                          bool add_generation_prompt);

} // namespace mlxt::tokenizer::detail
