// Prompt data for online RL (GRPO, PPO): rows that hold only a prompt, and
// optionally the `answer` a verifiable reward checks completions against.
//
// Row shapes (JSON object per row, any file kind row_source.h reads):
//   {"prompt": "text", "answer"?: ...}           one user turn
//   {"prompt": [messages], "answer"?: ...}        TRL's conversational prompt
//   {"messages": [messages], "answer"?: ...}      ending with a user turn
// Messages are OpenAI's {role, content, tool_calls?}; a top-level `system`
// string is prepended as a system turn. `answer` is a string or a number
// (kept as its JSON text). The prompt is encoded through the chat template
// with the generation prompt (the assistant header), or, without a template,
// as the plain text of a single user turn with BOS. A prompt longer than
// max_prompt_tokens keeps its last tokens (TRL's left truncation), counted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mlxt/data/example.h"
#include "mlxt/tokenizer/tokenizer.h"

namespace mlxt::data {

struct PromptRow {
  std::vector<int32_t> tokens;       // (P,) the encoded prompt
  std::optional<std::string> answer; // the row's `answer`, if any
  long line = 0;                     // where the row starts in its file
};

struct PromptSplit {
  std::string source;
  std::vector<PromptRow> rows;
  EncodeSummary summary; // truncated = prompts cut to max_prompt_tokens
  size_t with_answer = 0;
};

struct PromptDataset {
  PromptSplit train;
  std::optional<PromptSplit> valid;
  std::optional<PromptSplit> test;
};

//! Reads and encodes one file of prompt rows. `method` names the training
//! method in messages. Throws Error(invalid_data) naming the file, line and
//! key for a row of another shape (a completion or chosen/rejected, messages
//! ending with an assistant turn, an answer that is neither string nor
//! number), and when the file has no rows.
PromptSplit load_prompt_split(const std::filesystem::path& file,
                              const tokenizer::Tokenizer& tok,
                              int max_prompt_tokens,
                              const std::string& method);

//! Every split of `data` (see find_splits).
PromptDataset load_prompt_data(const std::filesystem::path& data,
                               const tokenizer::Tokenizer& tok,
                               int max_prompt_tokens,
                               const std::string& method);

} // namespace mlxt::data
