#include "mlxt/tokenizer/chat_format.h"

namespace mlxt::tokenizer::detail {

bool is_chatml_template(std::string_view chat_template) {
  return chat_template == kChatMlTemplate;
}

std::string render_chatml(const std::vector<ChatMessage>& messages,
                          bool add_generation_prompt) {
  std::string out;
  for (const ChatMessage& message : messages) {
    out += "<|im_start|>";
    out += message.role;
    out += '\n';
    out += message.content;
    out += "<|im_end|>\n";
  }
  if (add_generation_prompt) {
    out += "<|im_start|>assistant\n";
  }
  return out;
}

} // namespace mlxt::tokenizer::detail
