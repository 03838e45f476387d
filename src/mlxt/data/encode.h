// Encoding Records into training sequences: token ids plus a loss mask from
// the model's tokenizer and chat template.
//
//   text -> encode(text) + EOS, every token a target (cannot be masked);
//   chat -> the chat template over all messages. Without a chat template,
//           a single user/assistant pair is encoded as prompt + answer + EOS.
// With mask_prompt, only assistant tokens are targets. The prompt of a turn
// is what the template renders for the messages before it with the
// generation prompt; the turn ends where the template's rendering of the
// messages up to it ends. Only the last assistant turn is trained, unless
// all_assistant_turns. Tool calls are rendered as their JSON after the
// message text. Preference pairs are not SFT rows and are refused.
#pragma once

#include <string>
#include <vector>

#include "mlxt/data/example.h"
#include "mlxt/data/record.h"
#include "mlxt/tokenizer/tokenizer.h"

namespace mlxt::data {

struct EncodeOptions {
  bool mask_prompt = false;
  bool all_assistant_turns = false; // train every assistant turn, not the last
  int max_seq_length = 2048;        // longer rows are truncated
};

//! The messages as the chat template takes them: tool calls written as
//! their JSON after the message text.
std::vector<tokenizer::ChatMessage>
chat_messages(const std::vector<Message>& messages);

//! The example of one record (before truncation). Throws Error(invalid_data)
//! or Error(unsupported) with `file`/`line` for rows this tokenizer cannot
//! encode.
Example encode_record(const Record& record,
                      const tokenizer::Tokenizer& tok,
                      const EncodeOptions& options,
                      const std::string& file,
                      long line);

//! Cuts `example` to max_seq_length. Returns false when no target is left
//! (the row must be dropped, never trained as loss 0); sets `truncated`.
bool truncate_example(Example& example, int max_seq_length, bool& truncated);

} // namespace mlxt::data
