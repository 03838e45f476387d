#include "mlxt/data/sft_jsonl.h"

#include <fstream>

#include "mlxt/core/error.h"

namespace mlxt::data {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

[[noreturn]] void row_error(const std::string& message,
                            const std::string& file,
                            long line,
                            const std::string& key) {
  fail(ErrorCode::invalid_data,
       message,
       {.file = file, .line = line, .key = key});
}

const std::string& string_field(const json& row,
                                const char* key,
                                const std::string& file,
                                long line) {
  auto it = row.find(key);
  if (it == row.end() || !it->is_string()) {
    row_error("expected a string", file, line, key);
  }
  return it->get_ref<const std::string&>();
}

std::vector<tokenizer::ChatMessage>
parse_messages(const json& row, const std::string& file, long line) {
  const json& list = row["messages"];
  if (!list.is_array() || list.empty()) {
    row_error("expected a non-empty list of messages", file, line, "messages");
  }
  std::vector<tokenizer::ChatMessage> messages;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string key = "messages[" + std::to_string(i) + "]";
    const json& m = list[i];
    if (!m.is_object()) {
      row_error("expected an object with role and content", file, line, key);
    }
    auto role = m.find("role");
    auto content = m.find("content");
    if (role == m.end() || !role->is_string()) {
      row_error("expected a string", file, line, key + ".role");
    }
    const std::string& r = role->get_ref<const std::string&>();
    if (r != "system" && r != "user" && r != "assistant") {
      row_error("unknown role \"" + r + "\" (allowed: system, user, assistant)",
                file,
                line,
                key + ".role");
    }
    if (content == m.end() || !content->is_string()) {
      row_error("expected a string", file, line, key + ".content");
    }
    messages.push_back({r, content->get<std::string>()});
  }
  return messages;
}

std::vector<int32_t> encode_ids(const tokenizer::Tokenizer& tok,
                                const std::string& text,
                                bool add_special) {
  std::vector<int> ids = tok.encode(text, add_special);
  return {ids.begin(), ids.end()};
}

// Tokens of a chat and the number of leading prompt tokens (0 when not
// masking).
std::pair<std::vector<int32_t>, size_t>
encode_chat(const std::vector<tokenizer::ChatMessage>& messages,
            const tokenizer::Tokenizer& tok,
            bool mask_prompt) {
  // The template already writes any BOS it wants.
  std::vector<int32_t> tokens =
      encode_ids(tok, tok.apply_chat_template(messages, false), false);
  size_t prompt = 0;
  if (mask_prompt) {
    std::vector<tokenizer::ChatMessage> head(messages.begin(),
                                             messages.end() - 1);
    prompt = encode_ids(tok, tok.apply_chat_template(head, true), false).size();
  }
  return {tokens, prompt};
}

} // namespace

Example encode_row(const json& row,
                   const tokenizer::Tokenizer& tok,
                   const EncodeOptions& options,
                   const std::string& file,
                   long line) {
  if (!row.is_object()) {
    row_error("each line must be a JSON object", file, line, "");
  }
  std::vector<int32_t> tokens;
  size_t prompt = 0;
  if (row.contains("messages")) {
    if (!tok.has_chat_template()) {
      row_error("messages rows need a tokenizer with a chat template",
                file,
                line,
                "messages");
    }
    auto messages = parse_messages(row, file, line);
    if (messages.back().role != "assistant") {
      row_error("the last message must be from the assistant",
                file,
                line,
                "messages");
    }
    std::tie(tokens, prompt) = encode_chat(messages, tok, options.mask_prompt);
  } else if (row.contains("prompt") || row.contains("completion")) {
    const std::string& p = string_field(row, "prompt", file, line);
    const std::string& c = string_field(row, "completion", file, line);
    if (tok.has_chat_template()) {
      std::tie(tokens, prompt) = encode_chat(
          {{"user", p}, {"assistant", c}}, tok, options.mask_prompt);
    } else {
      tokens = encode_ids(tok, p, true);
      prompt = options.mask_prompt ? tokens.size() : 0;
      auto rest = encode_ids(tok, c, false);
      tokens.insert(tokens.end(), rest.begin(), rest.end());
      if (tok.eos_id()) {
        tokens.push_back(*tok.eos_id());
      }
    }
  } else if (row.contains("text")) {
    if (options.mask_prompt) {
      row_error(
          "mask_prompt needs prompt/completion or messages rows, not text",
          file,
          line,
          "text");
    }
    tokens = encode_ids(tok, string_field(row, "text", file, line), true);
    if (tok.eos_id() && (tokens.empty() || tokens.back() != *tok.eos_id())) {
      tokens.push_back(*tok.eos_id());
    }
  } else {
    row_error(
        "unrecognised row: expected a \"text\", \"prompt\"/\"completion\" or "
        "\"messages\" key",
        file,
        line,
        "");
  }
  Example example;
  example.tokens = std::move(tokens);
  example.loss_mask.assign(example.tokens.size(), 1);
  // Token 0 has no context, and prompt tokens are inputs only.
  for (size_t i = 0; i < example.loss_mask.size() && (i == 0 || i < prompt);
       ++i) {
    example.loss_mask[i] = 0;
  }
  return example;
}

namespace {

EncodedSplit load_split(const fs::path& file,
                        const tokenizer::Tokenizer& tok,
                        const EncodeOptions& options) {
  std::ifstream in(file);
  if (!in) {
    fail(ErrorCode::not_found,
         "cannot open the data file",
         {.file = file.string()});
  }
  EncodedSplit split{file.string(), {}, {}};
  std::string text;
  long line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    json row;
    try {
      row = json::parse(text);
    } catch (const json::parse_error& e) {
      fail(ErrorCode::invalid_data,
           std::string("invalid JSON: ") + e.what(),
           {.file = file.string(), .line = line});
    }
    ++split.summary.rows_read;
    Example example = encode_row(row, tok, options, file.string(), line);
    if (example.tokens.size() > static_cast<size_t>(options.max_seq_length)) {
      example.tokens.resize(options.max_seq_length);
      example.loss_mask.resize(options.max_seq_length);
      ++split.summary.truncated;
    }
    bool has_target =
        std::find(example.loss_mask.begin(), example.loss_mask.end(), 1) !=
        example.loss_mask.end();
    if (!has_target) {
      ++split.summary.dropped_no_targets;
      continue;
    }
    split.examples.push_back(std::move(example));
  }
  split.summary.kept = split.examples.size();
  if (split.examples.empty()) {
    fail(ErrorCode::invalid_data,
         split.summary.rows_read == 0 ? "the file has no rows"
                                      : "no row has a training target left",
         {.file = file.string()});
  }
  return split;
}

} // namespace

EncodedDataset load_sft_jsonl(const fs::path& data,
                              const tokenizer::Tokenizer& tok,
                              const EncodeOptions& options) {
  if (fs::is_regular_file(data)) {
    return {load_split(data, tok, options), std::nullopt, std::nullopt};
  }
  if (!fs::is_directory(data)) {
    fail(ErrorCode::not_found,
         "data path does not exist",
         {.file = data.string()});
  }
  if (!fs::exists(data / "train.jsonl")) {
    fail(ErrorCode::not_found,
         "the data folder has no train.jsonl",
         {.file = data.string()});
  }
  EncodedDataset dataset{
      load_split(data / "train.jsonl", tok, options), {}, {}};
  if (fs::exists(data / "valid.jsonl")) {
    dataset.valid = load_split(data / "valid.jsonl", tok, options);
  }
  if (fs::exists(data / "test.jsonl")) {
    dataset.test = load_split(data / "test.jsonl", tok, options);
  }
  return dataset;
}

} // namespace mlxt::data
