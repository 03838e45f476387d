#include "mlxt/data/prompt_data.h"

#include "mlxt/core/error.h"
#include "mlxt/data/dataset.h"
#include "mlxt/data/encode.h"
#include "mlxt/data/formats.h"
#include "mlxt/data/row_source.h"

namespace mlxt::data {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Where {
  const std::string& file;
  long line;
};

[[noreturn]] void
bad_row(const Where& at, const std::string& key, const std::string& message) {
  fail(ErrorCode::invalid_data, message, {at.file, at.line, key});
}

// The prompt turns of a row, validated by the messages format's own parser:
// it wants a conversation that ends with an assistant turn, so an empty one
// is appended for it and taken off again.
std::vector<Message>
prompt_messages(const json& row, const std::string& method, const Where& at) {
  for (const char* key : {"completion", "chosen", "rejected"}) {
    if (row.contains(key)) {
      bad_row(at,
              key,
              "method " + method +
                  " needs prompt-only rows (prompt or messages, optional "
                  "answer); this row has `" +
                  key + "`");
    }
  }
  std::string key = "prompt";
  json turns;
  if (auto p = row.find("prompt"); p != row.end()) {
    turns = p->is_string() ? json::array({{{"role", "user"}, {"content", *p}}})
                           : *p;
  } else if (auto m = row.find("messages"); m != row.end()) {
    key = "messages";
    turns = *m;
  } else {
    bad_row(at,
            "prompt",
            "missing: give `prompt` (text or messages) or `messages` ending "
            "with a user turn");
  }
  if (!turns.is_array() || turns.empty()) {
    bad_row(at, key, "expected text or a non-empty list of messages");
  }
  const json& last = turns.back();
  if (!last.is_object() || last.value("role", json()) != "user") {
    bad_row(at,
            key + "[" + std::to_string(turns.size() - 1) + "]",
            "a prompt must end with a user turn (a conversation that ends "
            "with an answer is SFT data)");
  }
  json chat = {{"messages", turns}};
  chat["messages"].push_back({{"role", "assistant"}, {"content", ""}});
  if (auto s = row.find("system"); s != row.end()) {
    chat["system"] = *s;
  }
  ParseResult parsed = parse_row(chat, Format::messages);
  if (const auto* problem = std::get_if<RowProblem>(&parsed)) {
    std::string where = problem->key;
    if (where.starts_with("messages")) {
      where = key + where.substr(std::string("messages").size());
    }
    bad_row(at, where, problem->reason);
  }
  std::vector<Message> messages = std::get<Record>(parsed).messages;
  messages.pop_back();
  return messages;
}

std::optional<std::string> answer_of(const json& row, const Where& at) {
  auto a = row.find("answer");
  if (a == row.end() || a->is_null()) {
    return std::nullopt;
  }
  if (a->is_string()) {
    return a->get<std::string>();
  }
  if (a->is_number()) {
    return a->dump();
  }
  bad_row(at,
          "answer",
          std::string("expected a string or a number, got ") + a->type_name());
}

std::vector<int32_t> encode_prompt(const std::vector<Message>& messages,
                                   const tokenizer::Tokenizer& tok,
                                   const Where& at) {
  std::vector<int> ids;
  if (tok.has_chat_template()) {
    // The template writes any BOS it wants.
    ids = tok.encode(tok.apply_chat_template(chat_messages(messages), true),
                     false);
  } else if (messages.size() == 1) {
    ids = tok.encode(messages[0].content, true);
  } else {
    fail(ErrorCode::unsupported,
         "a prompt with system, tool or several turns needs a tokenizer with "
         "a chat template",
         {at.file, at.line, "messages"});
  }
  return {ids.begin(), ids.end()};
}

} // namespace

PromptSplit load_prompt_split(const fs::path& file,
                              const tokenizer::Tokenizer& tok,
                              int max_prompt_tokens,
                              const std::string& method) {
  std::unique_ptr<RowSource> source = open_row_source(file);
  PromptSplit split;
  split.source = file.string();
  while (auto r = source->next()) {
    ++split.summary.rows_read;
    const Where at{source->file(), r->line};
    if (!r->problem.empty()) {
      bad_row(at, "", r->problem);
    }
    if (!r->value.is_object()) {
      bad_row(at, "", "expected a JSON object");
    }
    PromptRow row;
    row.line = r->line;
    row.answer = answer_of(r->value, at);
    row.tokens = encode_prompt(prompt_messages(r->value, method, at), tok, at);
    if (row.tokens.size() > static_cast<size_t>(max_prompt_tokens)) {
      row.tokens.erase(row.tokens.begin(),
                       row.tokens.end() - max_prompt_tokens);
      ++split.summary.truncated;
    }
    split.with_answer += row.answer.has_value();
    ++split.summary.kept;
    split.rows.push_back(std::move(row));
  }
  if (split.rows.empty()) {
    fail(ErrorCode::invalid_data,
         "the file has no rows",
         {.file = split.source});
  }
  return split;
}

PromptDataset load_prompt_data(const fs::path& data,
                               const tokenizer::Tokenizer& tok,
                               int max_prompt_tokens,
                               const std::string& method) {
  const SplitFiles files = find_splits(data);
  PromptDataset dataset{
      load_prompt_split(files.train, tok, max_prompt_tokens, method), {}, {}};
  if (files.valid) {
    dataset.valid =
        load_prompt_split(*files.valid, tok, max_prompt_tokens, method);
  }
  if (files.test) {
    dataset.test =
        load_prompt_split(*files.test, tok, max_prompt_tokens, method);
  }
  return dataset;
}

} // namespace mlxt::data
