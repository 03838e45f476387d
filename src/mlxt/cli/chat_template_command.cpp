// mlxt chat-template --model DIR FILE.json [--add_generation_prompt]
// [--tokens]: renders a conversation with the model's own chat template.
//
// FILE.json is a list of messages, or {"messages": [...], "tools": [...],
// "variables": {...}}. A message has role and content; its other members
// (tool_calls, name, tool_call_id, ...) reach the template as they are.
#include <fstream>
#include <iostream>
#include <sstream>

#include "mlxt/cli/commands.h"
#include "mlxt/core/error.h"
#include "mlxt/tokenizer/tokenizer.h"

namespace mlxt::cli {

namespace {

using ojson = nlohmann::ordered_json;

// Key order matters to templates (tools | tojson), so read it ordered.
ojson read_ordered_json(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    fail(ErrorCode::not_found,
         "cannot open the conversation file",
         {.file = file});
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    return ojson::parse(text.str());
  } catch (const ojson::parse_error& e) {
    fail(ErrorCode::invalid_data,
         std::string("invalid JSON: ") + e.what(),
         {.file = file});
  }
}

std::vector<tokenizer::ChatMessage> parse_messages(const ojson& list,
                                                   const std::string& file) {
  if (!list.is_array()) {
    fail(ErrorCode::invalid_data,
         "expected a list of messages",
         {.file = file, .line = 0, .key = "messages"});
  }
  std::vector<tokenizer::ChatMessage> messages;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string key = "messages[" + std::to_string(i) + "]";
    const ojson& m = list[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      fail(ErrorCode::invalid_data,
           "expected an object with a string role",
           {.file = file, .line = 0, .key = key});
    }
    tokenizer::ChatMessage message{m["role"].get<std::string>(), ""};
    for (const auto& [name, value] : m.items()) {
      if (name == "content" && value.is_string()) {
        message.content = value.get<std::string>();
      } else if (name != "role") {
        message.extra[name] = value; // a null or list content too
      }
    }
    messages.push_back(std::move(message));
  }
  return messages;
}

} // namespace

void add_chat_template_command(CLI::App& app) {
  struct Options {
    std::string model;
    std::string file;
    bool add_generation_prompt = false;
    bool tokens = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "chat-template", "Render a conversation with the model's chat template");
  cmd->add_option("--model", o->model, "Model folder")->required();
  cmd->add_option("file",
                  o->file,
                  "JSON: a list of messages, or {messages, tools, variables}")
      ->required();
  cmd->add_flag("--add_generation_prompt",
                o->add_generation_prompt,
                "Append the assistant turn header");
  cmd->add_flag("--tokens", o->tokens, "Also print the token ids");
  cmd->callback([o] {
    ojson doc = read_ordered_json(o->file);
    ojson tools = nullptr;
    ojson variables = ojson::object();
    if (doc.is_object()) {
      tools = doc.value("tools", ojson());
      variables = doc.value("variables", ojson::object());
      doc = doc.value("messages", ojson());
    }
    auto tok = tokenizer::Tokenizer::load(o->model);
    std::string text = tok.apply_chat_template(parse_messages(doc, o->file),
                                               o->add_generation_prompt,
                                               variables,
                                               tools);
    std::cout << text;
    if (o->tokens) {
      // The template writes any BOS itself, as HF's tokenize=True does.
      std::cout << "\n" << ojson(tok.encode(text, false)).dump() << "\n";
    }
  });
}

} // namespace mlxt::cli
