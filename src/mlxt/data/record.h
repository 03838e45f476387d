// Record: one dataset row in the one internal form every format maps to. A
// chat (alpaca, sharegpt, messages and completions rows), a plain text, or a
// preference pair (a shared prompt conversation and two continuations).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::data {

enum class Format { alpaca, sharegpt, messages, completions, text, preference };

//! "alpaca", "sharegpt", "messages", "completions", "text", "preference".
const char* format_name(Format format);
//! The format named `name`, if there is one.
std::optional<Format> format_from_name(const std::string& name);

struct ToolCall {
  std::string name;
  nlohmann::json arguments; // an object (or a string the model wrote)
};

struct Message {
  std::string role; // "system" | "user" | "assistant" | "tool"
  std::string content;
  std::vector<ToolCall> tool_calls; // assistant messages that call tools
};

struct Record {
  enum class Kind { chat, text, preference };
  Kind kind = Kind::chat;
  std::string text;              // Kind::text
  std::vector<Message> messages; // chat; for a preference, the prompt
  nlohmann::json tools;          // tool definitions (array) or null
  std::vector<Message> chosen;   // preference: the preferred continuation
  std::vector<Message> rejected; // preference: the other one
  //! preference: how much the chosen side should win by (the optional
  //! `margin` column of TRL's reward data); 0 when absent.
  double margin = 0.0;
};

} // namespace mlxt::data
