// Writing a Record as a row of a given format, for `mlxt data convert`.
// Each writer refuses a record it cannot hold without losing meaning, and
// says what would be lost.
#include "mlxt/data/formats.h"

namespace mlxt::data {

using nlohmann::json;

namespace {

using Written = std::variant<json, std::string>;

json call_json(const ToolCall& c) {
  return {{"name", c.name}, {"arguments", c.arguments}};
}

json openai_message(const Message& m) {
  json out = {{"role", m.role}, {"content", m.content}};
  if (!m.tool_calls.empty()) {
    json calls = json::array();
    for (const ToolCall& c : m.tool_calls) {
      calls.push_back(
          {{"type", "function"},
           {"function",
            {{"name", c.name},
             {"arguments",
              c.arguments.is_string() ? c.arguments.get<std::string>()
                                      : c.arguments.dump()}}}});
    }
    out["tool_calls"] = std::move(calls);
  }
  return out;
}

json openai_list(const std::vector<Message>& messages) {
  json list = json::array();
  for (const Message& m : messages) {
    list.push_back(openai_message(m));
  }
  return list;
}

Written sharegpt_list(const std::vector<Message>& messages) {
  json list = json::array();
  for (const Message& m : messages) {
    if (!m.tool_calls.empty()) {
      if (!m.content.empty()) {
        return std::string("an assistant turn has both text and tool calls; "
                           "a sharegpt turn holds one or the other");
      }
      json value =
          m.tool_calls.size() == 1 ? call_json(m.tool_calls[0]) : json::array();
      for (size_t i = 0; m.tool_calls.size() > 1 && i < m.tool_calls.size();
           ++i) {
        value.push_back(call_json(m.tool_calls[i]));
      }
      list.push_back({{"from", "function_call"}, {"value", value.dump()}});
      continue;
    }
    const char* from = m.role == "user"        ? "human"
                       : m.role == "assistant" ? "gpt"
                       : m.role == "tool"      ? "observation"
                                               : "system";
    list.push_back({{"from", from}, {"value", m.content}});
  }
  return list;
}

bool has_tools(const Record& r) {
  if (!r.tools.is_null()) {
    return true;
  }
  for (const Message& m : r.messages) {
    if (!m.tool_calls.empty() || m.role == "tool") {
      return true;
    }
  }
  return false;
}

Written to_messages(const Record& r) {
  json row = {{"messages", openai_list(r.messages)}};
  if (!r.tools.is_null()) {
    row["tools"] = r.tools;
  }
  return row;
}

Written to_sharegpt(const Record& r) {
  Written list = sharegpt_list(r.messages);
  if (std::holds_alternative<std::string>(list)) {
    return list;
  }
  json row = {{"conversations", std::get<json>(list)}};
  if (!r.tools.is_null()) {
    row["tools"] = r.tools.dump();
  }
  return row;
}

Written to_alpaca(const Record& r) {
  if (has_tools(r)) {
    return std::string("alpaca rows cannot hold tools or tool calls");
  }
  size_t at = 0;
  json row = json::object();
  if (!r.messages.empty() && r.messages[0].role == "system") {
    row["system"] = r.messages[0].content;
    at = 1;
  }
  if ((r.messages.size() - at) % 2 != 0) {
    return std::string("alpaca rows need alternating user/assistant turns");
  }
  json history = json::array();
  for (size_t i = at; i < r.messages.size(); i += 2) {
    if (r.messages[i].role != "user" || r.messages[i + 1].role != "assistant") {
      return std::string("alpaca rows need alternating user/assistant turns");
    }
    if (i + 2 < r.messages.size()) {
      history.push_back({r.messages[i].content, r.messages[i + 1].content});
    }
  }
  const size_t last = r.messages.size() - 2;
  row["instruction"] = r.messages[last].content;
  row["input"] = "";
  row["output"] = r.messages[last + 1].content;
  if (!history.empty()) {
    row["history"] = std::move(history);
  }
  return row;
}

Written to_completions(const Record& r) {
  if (r.messages.size() != 2 || r.messages[0].role != "user" ||
      r.messages[1].role != "assistant" || has_tools(r)) {
    return std::string("completions rows hold exactly one user prompt and one "
                       "assistant answer (no system message, history or "
                       "tools)");
  }
  return json{{"prompt", r.messages[0].content},
              {"completion", r.messages[1].content}};
}

Written to_preference(const Record& r) {
  json row = {{"prompt", openai_list(r.messages)},
              {"chosen", openai_list(r.chosen)},
              {"rejected", openai_list(r.rejected)}};
  if (!r.tools.is_null()) {
    row["tools"] = r.tools;
  }
  if (r.margin != 0.0) {
    row["margin"] = r.margin;
  }
  return row;
}

} // namespace

std::variant<json, std::string> write_row(const Record& record, Format format) {
  const bool is_text = record.kind == Record::Kind::text;
  const bool is_pair = record.kind == Record::Kind::preference;
  if (format == Format::text) {
    if (!is_text) {
      return std::string("text rows have no turns; a chat or preference row "
                         "would lose its roles and prompt mask");
    }
    return json{{"text", record.text}};
  }
  if (is_text) {
    return std::string("a text row has no prompt and answer to put in ") +
           format_name(format) + " rows";
  }
  if (format == Format::preference) {
    if (!is_pair) {
      return std::string("a chat row has no rejected answer");
    }
    return to_preference(record);
  }
  if (is_pair) {
    return std::string("a preference pair has two answers; ") +
           format_name(format) +
           " rows hold one (convert to preference, or keep the pairs)";
  }
  switch (format) {
  case Format::messages:
    return to_messages(record);
  case Format::sharegpt:
    return to_sharegpt(record);
  case Format::alpaca:
    return to_alpaca(record);
  default:
    return to_completions(record);
  }
}

} // namespace mlxt::data
