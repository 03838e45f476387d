// Reading rows of each format into a Record. Each parser returns the first
// problem it finds as a value, keyed by the JSON path that holds it.
#include "mlxt/core/error.h"
#include "mlxt/data/formats.h"

namespace mlxt::data {

using nlohmann::json;

const char* format_name(Format format) {
  switch (format) {
  case Format::alpaca:
    return "alpaca";
  case Format::sharegpt:
    return "sharegpt";
  case Format::messages:
    return "messages";
  case Format::completions:
    return "completions";
  case Format::text:
    return "text";
  case Format::preference:
    return "preference";
  }
  return "messages";
}

std::optional<Format> format_from_name(const std::string& name) {
  for (Format f : {Format::alpaca,
                   Format::sharegpt,
                   Format::messages,
                   Format::completions,
                   Format::text,
                   Format::preference}) {
    if (name == format_name(f)) {
      return f;
    }
  }
  return std::nullopt;
}

namespace {

// Thrown inside this file only, caught by parse_row: keeps each parser a
// straight line of checks.
struct Bad {
  RowProblem problem;
};

[[noreturn]] void bad(const std::string& key, const std::string& reason) {
  throw Bad{{key, reason}};
}

std::string join_key(const std::string& base, const std::string& key) {
  return base.empty() ? key : base + "." + key;
}

const json&
required(const json& row, const std::string& base, const std::string& key) {
  auto it = row.find(key);
  if (it == row.end()) {
    bad(join_key(base, key), "missing");
  }
  return *it;
}

std::string as_string(const json& v, const std::string& key) {
  if (!v.is_string()) {
    bad(key, std::string("expected a string, got ") + v.type_name());
  }
  return v.get<std::string>();
}

std::string required_string(const json& row,
                            const std::string& base,
                            const std::string& key) {
  return as_string(required(row, base, key), join_key(base, key));
}

std::string optional_string(const json& row, const std::string& key) {
  auto it = row.find(key);
  if (it == row.end() || it->is_null()) {
    return "";
  }
  return as_string(*it, key);
}

// Content as OpenAI allows it: a string, null, or a list of text parts.
std::string content_text(const json& v, const std::string& key) {
  if (v.is_null()) {
    return "";
  }
  if (v.is_string()) {
    return v.get<std::string>();
  }
  if (!v.is_array()) {
    bad(key,
        std::string("expected a string or a list of text parts, got ") +
            v.type_name());
  }
  std::string text;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string part = key + "[" + std::to_string(i) + "]";
    if (!v[i].is_object() || v[i].value("type", "") != "text") {
      bad(part, "only {\"type\": \"text\", \"text\": ...} parts are supported");
    }
    text += required_string(v[i], part, "text");
  }
  return text;
}

// A tool call from a JSON value {name, arguments} (arguments an object or a
// JSON string holding one).
ToolCall tool_call(const json& v, const std::string& key) {
  if (!v.is_object()) {
    bad(key, "expected an object with name and arguments");
  }
  ToolCall call;
  call.name = required_string(v, key, "name");
  auto args = v.find("arguments");
  if (args == v.end() || args->is_null()) {
    call.arguments = json::object();
  } else if (args->is_string()) {
    json parsed = json::parse(args->get<std::string>(), nullptr, false);
    call.arguments = parsed.is_discarded() ? *args : parsed;
  } else {
    call.arguments = *args;
  }
  return call;
}

json tools_field(const json& row) {
  auto it = row.find("tools");
  if (it == row.end() || it->is_null()) {
    return nullptr;
  }
  if (it->is_string()) {
    // ShareGPT tool lists are often a JSON string.
    if (it->get<std::string>().empty()) {
      return nullptr;
    }
    json parsed = json::parse(it->get<std::string>(), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_array()) {
      bad("tools", "expected a JSON list of tool definitions");
    }
    return parsed;
  }
  if (!it->is_array()) {
    bad("tools", "expected a list of tool definitions");
  }
  return *it;
}

// Checks the turn order every chat needs: system only first, at least one
// assistant turn, and an assistant turn last (what the model learns to say).
void check_chat(const std::vector<Message>& messages, const std::string& key) {
  if (messages.empty()) {
    bad(key, "the conversation is empty");
  }
  bool assistant = false;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].role == "system" && i != 0) {
      bad(key + "[" + std::to_string(i) + "]",
          "a system message may only come first");
    }
    assistant = assistant || messages[i].role == "assistant";
  }
  if (!assistant) {
    bad(key, "no assistant turn: nothing to train on");
  }
  if (messages.back().role != "assistant") {
    bad(key + "[" + std::to_string(messages.size() - 1) + "]",
        "the last turn is \"" + messages.back().role +
            "\"; a conversation must end with an assistant turn");
  }
}

std::vector<Message> openai_messages(const json& list, const std::string& key) {
  if (!list.is_array()) {
    bad(key,
        std::string("expected a list of messages, got ") + list.type_name());
  }
  std::vector<Message> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = key + "[" + std::to_string(i) + "]";
    const json& m = list[i];
    if (!m.is_object()) {
      bad(at, "expected an object with role and content");
    }
    Message msg;
    msg.role = required_string(m, at, "role");
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant" &&
        msg.role != "tool") {
      bad(at + ".role",
          "unknown role \"" + msg.role +
              "\" (allowed: system, user, assistant, tool)");
    }
    auto calls = m.find("tool_calls");
    if (calls != m.end() && !calls->is_null()) {
      if (msg.role != "assistant" || !calls->is_array()) {
        bad(at + ".tool_calls", "expected a list, on an assistant message");
      }
      for (size_t c = 0; c < calls->size(); ++c) {
        const std::string ck = at + ".tool_calls[" + std::to_string(c) + "]";
        const json& call = (*calls)[c];
        msg.tool_calls.push_back(tool_call(
            call.is_object() && call.contains("function") ? call["function"]
                                                          : call,
            ck));
      }
    }
    auto content = m.find("content");
    if (content == m.end() && msg.tool_calls.empty()) {
      bad(at + ".content", "missing");
    }
    if (content != m.end()) {
      msg.content = content_text(*content, at + ".content");
    }
    out.push_back(std::move(msg));
  }
  return out;
}

std::vector<Message> sharegpt_turns(const json& list, const std::string& key) {
  if (!list.is_array()) {
    bad(key,
        std::string("expected a list of {from, value} turns, got ") +
            list.type_name());
  }
  std::vector<Message> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = key + "[" + std::to_string(i) + "]";
    const json& t = list[i];
    if (!t.is_object()) {
      bad(at, "expected an object with from and value");
    }
    const std::string from = required_string(t, at, "from");
    const std::string value = required_string(t, at, "value");
    if (from == "human") {
      out.push_back({"user", value, {}});
    } else if (from == "gpt") {
      out.push_back({"assistant", value, {}});
    } else if (from == "system") {
      out.push_back({"system", value, {}});
    } else if (from == "observation") {
      out.push_back({"tool", value, {}});
    } else if (from == "function_call") {
      json call = json::parse(value, nullptr, false);
      if (call.is_discarded()) {
        bad(at + ".value",
            "a function_call value must be JSON {name, "
            "arguments}");
      }
      Message m{"assistant", "", {}};
      if (call.is_array()) {
        for (size_t c = 0; c < call.size(); ++c) {
          m.tool_calls.push_back(tool_call(call[c], at + ".value"));
        }
      } else {
        m.tool_calls.push_back(tool_call(call, at + ".value"));
      }
      out.push_back(std::move(m));
    } else {
      bad(at + ".from",
          "unknown role \"" + from +
              "\" (allowed: human, gpt, system, function_call, observation)");
    }
  }
  return out;
}

void prepend_system(std::vector<Message>& messages, const json& row) {
  const std::string system = optional_string(row, "system");
  if (!system.empty()) {
    if (!messages.empty() && messages.front().role == "system") {
      bad("system", "both a system field and a system message");
    }
    messages.insert(messages.begin(), Message{"system", system, {}});
  }
}

Record alpaca(const json& row) {
  Record r;
  std::string prompt = required_string(row, "", "instruction");
  const std::string input = optional_string(row, "input");
  if (!input.empty()) {
    prompt += "\n\n" + input;
  }
  std::string output;
  if (row.contains("output")) {
    output = required_string(row, "", "output");
  } else if (row.contains("response")) {
    output = required_string(row, "", "response");
  } else {
    bad("output", "missing (alpaca rows need output or response)");
  }
  auto history = row.find("history");
  if (history != row.end() && !history->is_null()) {
    if (!history->is_array()) {
      bad("history", "expected a list of [instruction, response] pairs");
    }
    for (size_t i = 0; i < history->size(); ++i) {
      const json& pair = (*history)[i];
      const std::string at = "history[" + std::to_string(i) + "]";
      if (!pair.is_array() || pair.size() != 2) {
        bad(at, "expected [instruction, response]");
      }
      r.messages.push_back({"user", as_string(pair[0], at + "[0]"), {}});
      r.messages.push_back({"assistant", as_string(pair[1], at + "[1]"), {}});
    }
  }
  r.messages.push_back({"user", prompt, {}});
  r.messages.push_back({"assistant", output, {}});
  prepend_system(r.messages, row);
  check_chat(r.messages, "");
  return r;
}

Record sharegpt(const json& row) {
  Record r;
  const char* key =
      row.contains("conversations") ? "conversations" : "messages";
  r.messages = sharegpt_turns(required(row, "", key), key);
  prepend_system(r.messages, row);
  r.tools = tools_field(row);
  check_chat(r.messages, key);
  return r;
}

Record messages(const json& row) {
  Record r;
  r.messages = openai_messages(required(row, "", "messages"), "messages");
  prepend_system(r.messages, row);
  r.tools = tools_field(row);
  check_chat(r.messages, "messages");
  return r;
}

Record completions(const json& row) {
  Record r;
  r.messages.push_back({"user", required_string(row, "", "prompt"), {}});
  r.messages.push_back(
      {"assistant", required_string(row, "", "completion"), {}});
  return r;
}

Record text(const json& row) {
  Record r;
  r.kind = Record::Kind::text;
  r.text = required_string(row, "", "text");
  if (r.text.empty()) {
    bad("text", "empty");
  }
  return r;
}

// "\n\nHuman: ...\n\nAssistant: ..." (Anthropic HH-RLHF) as messages.
std::optional<std::vector<Message>> transcript(const std::string& s) {
  static const std::string kHuman = "\n\nHuman:";
  static const std::string kAssistant = "\n\nAssistant:";
  std::vector<Message> out;
  size_t at = 0;
  while (at < s.size()) {
    const bool human = s.compare(at, kHuman.size(), kHuman) == 0;
    const bool assistant = s.compare(at, kAssistant.size(), kAssistant) == 0;
    if (!human && !assistant) {
      return std::nullopt;
    }
    at += human ? kHuman.size() : kAssistant.size();
    size_t next = std::min(s.find(kHuman, at), s.find(kAssistant, at));
    if (next == std::string::npos) {
      next = s.size();
    }
    std::string body = s.substr(at, next - at);
    if (!body.empty() && body.front() == ' ') {
      body.erase(0, 1);
    }
    out.push_back({human ? "user" : "assistant", body, {}});
    at = next;
  }
  if (out.empty()) {
    return std::nullopt;
  }
  return out;
}

// One side of a preference pair as messages.
std::vector<Message> side(const json& v, const std::string& key) {
  if (v.is_string()) {
    if (auto t = transcript(v.get<std::string>())) {
      return *t;
    }
    return {{"assistant", v.get<std::string>(), {}}};
  }
  if (v.is_object()) {
    return v.contains("from") ? sharegpt_turns(json::array({v}), key)
                              : openai_messages(json::array({v}), key);
  }
  if (v.is_array() && !v.empty() && v[0].is_object() && v[0].contains("from")) {
    return sharegpt_turns(v, key);
  }
  return openai_messages(v, key);
}

bool same_message(const Message& a, const Message& b) {
  return a.role == b.role && a.content == b.content &&
         a.tool_calls.size() == b.tool_calls.size();
}

Record preference(const json& row) {
  Record r;
  r.kind = Record::Kind::preference;
  std::vector<Message> chosen = side(required(row, "", "chosen"), "chosen");
  std::vector<Message> rejected =
      side(required(row, "", "rejected"), "rejected");
  if (row.contains("prompt")) {
    const json& p = row["prompt"];
    r.messages = p.is_string()
                     ? std::vector<Message>{{"user", p.get<std::string>(), {}}}
                     : openai_messages(p, "prompt");
  } else if (row.contains("conversations")) {
    r.messages = sharegpt_turns(row["conversations"], "conversations");
  } else if (row.contains("messages")) {
    r.messages = openai_messages(row["messages"], "messages");
  } else if (row.contains("instruction")) {
    r.messages = alpaca(json{{"instruction", row["instruction"]},
                             {"input", row.value("input", json(""))},
                             {"output", ""}})
                     .messages;
    r.messages.pop_back();
  }
  // Whole transcripts (or full message lists) share their beginning: that
  // is the prompt, unless one was given.
  size_t shared = 0;
  while (shared + 1 < chosen.size() && shared + 1 < rejected.size() &&
         same_message(chosen[shared], rejected[shared])) {
    ++shared;
  }
  if (r.messages.empty() || shared > 0) {
    if (!r.messages.empty() && shared > 0) {
      bad("chosen", "both a prompt and a shared beginning in chosen/rejected");
    }
    r.messages.assign(chosen.begin(), chosen.begin() + shared);
  }
  r.chosen.assign(chosen.begin() + shared, chosen.end());
  r.rejected.assign(rejected.begin() + shared, rejected.end());
  prepend_system(r.messages, row);
  r.tools = tools_field(row);
  if (row.contains("margin")) {
    if (!row["margin"].is_number()) {
      bad("margin", "must be a number");
    }
    r.margin = row["margin"].get<double>();
  }
  if (r.messages.empty()) {
    bad("prompt",
        "missing: give prompt, conversations, messages or "
        "instruction, or whole transcripts in chosen/rejected");
  }
  if (r.messages.back().role == "assistant") {
    bad("prompt", "the prompt must end with a user turn");
  }
  for (const auto* s : {&r.chosen, &r.rejected}) {
    const char* name = s == &r.chosen ? "chosen" : "rejected";
    if (s->empty() || s->back().role != "assistant") {
      bad(name, "must end with an assistant turn");
    }
  }
  return r;
}

} // namespace

ParseResult parse_row(const json& row, Format format) {
  if (!row.is_object()) {
    return RowProblem{"", "expected a JSON object"};
  }
  try {
    switch (format) {
    case Format::alpaca:
      return alpaca(row);
    case Format::sharegpt:
      return sharegpt(row);
    case Format::messages:
      return messages(row);
    case Format::completions:
      return completions(row);
    case Format::text:
      return text(row);
    case Format::preference:
      return preference(row);
    }
  } catch (const Bad& b) {
    return b.problem;
  }
  return RowProblem{"", "unknown format"};
}

void parse_column_map(const std::string& spec, ColumnMap& into) {
  size_t at = 0;
  while (at <= spec.size()) {
    size_t comma = spec.find(',', at);
    if (comma == std::string::npos) {
      comma = spec.size();
    }
    const std::string entry = spec.substr(at, comma - at);
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
      fail(ErrorCode::invalid_config,
           "expected key=column (e.g. instruction=question), got \"" + entry +
               "\"",
           {.key = "columns"});
    }
    into[entry.substr(0, eq)] = entry.substr(eq + 1);
    at = comma + 1;
  }
}

void apply_column_map(json& row, const ColumnMap& columns) {
  if (!row.is_object()) {
    return;
  }
  for (const auto& [canonical, column] : columns) {
    auto it = row.find(column);
    if (it != row.end() && canonical != column) {
      json value = std::move(*it);
      row.erase(column);
      row[canonical] = std::move(value);
    }
  }
}

} // namespace mlxt::data
