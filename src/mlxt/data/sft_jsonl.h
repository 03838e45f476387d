// Supervised fine-tuning data from JSONL files, as mlx-lm reads them.
//
// Each row is one of: {"text": ...}; {"prompt": ..., "completion": ...};
// {"messages": [{"role", "content"}, ...]}. `data` is a folder holding
// train.jsonl, valid.jsonl and optionally test.jsonl, or a single .jsonl file
// (train only). Encoding:
//   text        -> encode(text) + EOS, every token a target;
//   completions -> the chat template over a user and an assistant turn (or
//                  prompt + completion + EOS when the tokenizer has none);
//   messages    -> the chat template over all messages.
// With mask_prompt, only tokens after the prompt are targets: the prompt is
// what the template renders for all messages but the last with the
// generation prompt. Text rows cannot be masked. Padding is never a target.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mlxt/data/example.h"
#include "mlxt/tokenizer/tokenizer.h"

namespace mlxt::data {

struct EncodeOptions {
  bool mask_prompt = false;
  int max_seq_length = 2048; // longer rows are truncated
};

struct EncodedSplit {
  std::string source; // the file it came from
  std::vector<Example> examples;
  EncodeSummary summary;
};

struct EncodedDataset {
  EncodedSplit train;
  std::optional<EncodedSplit> valid;
  std::optional<EncodedSplit> test;
};

//! Reads and encodes every split of `data`. Bad rows end the load with
//! Error(invalid_data) naming the file, line and key.
EncodedDataset load_sft_jsonl(const std::filesystem::path& data,
                              const tokenizer::Tokenizer& tok,
                              const EncodeOptions& options);

//! Encodes one parsed row (exposed for tests and `mlxt generate` prompts).
//! `where` names the file and line in errors.
Example encode_row(const nlohmann::json& row,
                   const tokenizer::Tokenizer& tok,
                   const EncodeOptions& options,
                   const std::string& file,
                   long line);

} // namespace mlxt::data
