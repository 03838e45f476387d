#include "mlxt/data/encode.h"

#include <algorithm>

#include "mlxt/core/error.h"

namespace mlxt::data {

namespace {

std::vector<int32_t> encode_ids(const tokenizer::Tokenizer& tok,
                                const std::string& text,
                                bool add_special) {
  std::vector<int> ids = tok.encode(text, add_special);
  return {ids.begin(), ids.end()};
}

// Length in tokens of the template rendering of messages[0..n).
size_t rendered_length(const tokenizer::Tokenizer& tok,
                       const std::vector<tokenizer::ChatMessage>& messages,
                       size_t n,
                       bool generation_prompt) {
  std::vector<tokenizer::ChatMessage> head(messages.begin(),
                                           messages.begin() + n);
  return encode_ids(
             tok, tok.apply_chat_template(head, generation_prompt), false)
      .size();
}

Example encode_chat(const Record& r,
                    const tokenizer::Tokenizer& tok,
                    const EncodeOptions& options) {
  const auto messages = chat_messages(r.messages);
  Example e;
  // The template writes any BOS it wants.
  e.tokens = encode_ids(tok, tok.apply_chat_template(messages, false), false);
  e.loss_mask.assign(e.tokens.size(), options.mask_prompt ? 0 : 1);
  if (options.mask_prompt) {
    for (size_t i = 0; i < messages.size(); ++i) {
      const bool last = i + 1 == messages.size();
      if (messages[i].role != "assistant" ||
          (!last && !options.all_assistant_turns)) {
        continue;
      }
      const size_t begin = rendered_length(tok, messages, i, true);
      const size_t end =
          last ? e.tokens.size() : rendered_length(tok, messages, i + 1, false);
      for (size_t t = begin; t < std::min(end, e.tokens.size()); ++t) {
        e.loss_mask[t] = 1;
      }
    }
  }
  return e;
}

} // namespace

std::vector<tokenizer::ChatMessage>
chat_messages(const std::vector<Message>& messages) {
  std::vector<tokenizer::ChatMessage> out;
  for (const Message& m : messages) {
    std::string content = m.content;
    for (const ToolCall& call : m.tool_calls) {
      content +=
          (content.empty() ? "" : "\n") +
          nlohmann::json{{"name", call.name}, {"arguments", call.arguments}}
              .dump();
    }
    out.push_back({m.role, std::move(content)});
  }
  return out;
}

Example encode_record(const Record& r,
                      const tokenizer::Tokenizer& tok,
                      const EncodeOptions& options,
                      const std::string& file,
                      long line) {
  Example e;
  if (r.kind == Record::Kind::preference) {
    fail(ErrorCode::unsupported,
         "a preference pair (chosen/rejected) is not a supervised row; train "
         "it with a preference method, or convert the chosen answers with "
         "`mlxt data convert`",
         {.file = file, .line = line});
  }
  if (r.kind == Record::Kind::text) {
    if (options.mask_prompt) {
      fail(ErrorCode::invalid_data,
           "mask_prompt needs prompt/answer rows, not text",
           {.file = file, .line = line, .key = "text"});
    }
    e.tokens = encode_ids(tok, r.text, true);
    if (tok.eos_id() &&
        (e.tokens.empty() || e.tokens.back() != *tok.eos_id())) {
      e.tokens.push_back(*tok.eos_id());
    }
    e.loss_mask.assign(e.tokens.size(), 1);
  } else if (tok.has_chat_template()) {
    e = encode_chat(r, tok, options);
  } else if (r.messages.size() == 2 && r.messages[0].role == "user" &&
             r.messages[1].tool_calls.empty()) {
    e.tokens = encode_ids(tok, r.messages[0].content, true);
    const size_t prompt = e.tokens.size();
    auto rest = encode_ids(tok, r.messages[1].content, false);
    e.tokens.insert(e.tokens.end(), rest.begin(), rest.end());
    if (tok.eos_id()) {
      e.tokens.push_back(*tok.eos_id());
    }
    e.loss_mask.assign(e.tokens.size(), 1);
    if (options.mask_prompt) {
      std::fill_n(e.loss_mask.begin(), prompt, 0);
    }
  } else {
    fail(ErrorCode::unsupported,
         "a chat with system, tool or several turns needs a tokenizer with a "
         "chat template",
         {.file = file, .line = line, .key = "messages"});
  }
  // Token 0 has no context to be predicted from.
  if (!e.loss_mask.empty()) {
    e.loss_mask[0] = 0;
  }
  return e;
}

bool truncate_example(Example& example, int max_seq_length, bool& truncated) {
  truncated = example.tokens.size() > static_cast<size_t>(max_seq_length);
  if (truncated) {
    example.tokens.resize(max_seq_length);
    example.loss_mask.resize(max_seq_length);
  }
  return std::find(example.loss_mask.begin(), example.loss_mask.end(), 1) !=
         example.loss_mask.end();
}

} // namespace mlxt::data
