// Every chat template in the shared fixtures renders byte-identical to
// jinja2 set up as Hugging Face does (tests/oracles/render_chat_template.py),
// for conversations with and without a system message, single and multi
// turn, with tools, and with add_generation_prompt on and off. A template
// that raises in jinja2 for a conversation must raise here too.
#include <algorithm>
#include <filesystem>
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mlxt/tokenizer/chat_format.h"
#include "mlxt/tokenizer/jinja/template.h"
#include "mlxt/tokenizer/tokenizer_config.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using mlxt::tokenizer::ChatMessage;
using ojson = nlohmann::ordered_json;

struct FixtureTemplate {
  std::string name; // path under the fixtures, plus "#name" for named ones
  std::string text;
  mlxt::tokenizer::detail::TokenizerConfig config; // special tokens
};

struct Conversation {
  std::string name;
  std::vector<ChatMessage> messages;
  ojson tools = nullptr;
  ojson variables = ojson::object();
};

std::vector<FixtureTemplate> collect_templates(const fs::path& fixtures) {
  std::vector<FixtureTemplate> out;
  std::vector<fs::path> files;
  for (const char* folder : {"chat_templates", "tokenizers"}) {
    for (const auto& entry :
         fs::recursive_directory_iterator(fixtures / folder)) {
      if (entry.is_regular_file()) {
        files.push_back(entry.path());
      }
    }
  }
  std::sort(files.begin(), files.end());
  mlxt::tokenizer::detail::TokenizerConfig plain;
  plain.bos_token = "<|bos|>";
  plain.eos_token = "<|eos|>";
  for (const fs::path& file : files) {
    std::string name = fs::relative(file, fixtures).string();
    if (file.extension() == ".jinja") {
      out.push_back({name, mlxt::testing::read_file(file), plain});
      continue;
    }
    if (file.extension() != ".json" ||
        file.string().find("tokenizer.json") != std::string::npos) {
      continue;
    }
    nlohmann::json config =
        nlohmann::json::parse(mlxt::testing::read_file(file), nullptr, false);
    if (!config.is_object() || !config.contains("chat_template")) {
      continue;
    }
    auto parsed =
        mlxt::tokenizer::detail::parse_tokenizer_config(config, file.string());
    for (const auto& [template_name, text] : parsed.chat_templates) {
      out.push_back({parsed.chat_templates.size() == 1
                         ? name
                         : name + "#" + template_name,
                     text,
                     parsed});
    }
  }
  return out;
}

ChatMessage message(std::string role, std::string content, ojson extra = {}) {
  ChatMessage m{std::move(role), std::move(content)};
  if (extra.is_object()) {
    m.extra = std::move(extra);
  }
  return m;
}

std::vector<Conversation> conversations() {
  ojson tools = ojson::parse(R"([{"type": "function", "function": {
      "name": "get_weather",
      "description": "Get the current weather in a city.",
      "parameters": {"type": "object",
                     "properties": {"city": {"type": "string",
                                             "description": "City name"},
                                    "unit": {"type": "string",
                                             "enum": ["celsius", "fahrenheit"]}},
                     "required": ["city"]}}}])");
  ojson call = ojson::parse(R"({"tool_calls": [{"id": "call_1",
      "type": "function",
      "function": {"name": "get_weather",
                   "arguments": {"city": "Paris", "unit": "celsius"}}}]})");
  std::vector<Conversation> out;
  out.push_back({"single_user", {message("user", "Hello! How are you?")}});
  out.push_back({"system_user",
                 {message("system", "You are a helpful assistant."),
                  message("user", "What is 2+2?")}});
  out.push_back({"multi_turn_system",
                 {message("system", "Answer briefly."),
                  message("user", "Name a colour."),
                  message("assistant", "Blue."),
                  message("user", "Another one?")}});
  out.push_back({"multi_turn_ends_with_assistant",
                 {message("user", "Hi"),
                  message("assistant", "Hello, how can I help?"),
                  message("user", "Tell me a joke.\nA short one."),
                  message("assistant",
                          "  Why did the chicken cross the "
                          "road? To get to the other side.  ")}});
  out.push_back({"unicode_and_markup",
                 {message("user",
                          "日本語で？ 😀 <b>\"quoted\" & 'single'</b>\n"
                          "\tindented {{ not jinja }} {% nor this %}")}});
  out.push_back(
      {"tools",
       {message("system", "You can call tools."),
        message("user", "What's the weather in Paris?"),
        message("assistant", "", call),
        message("tool",
                "{\"temperature\": 22, \"unit\": \"celsius\"}",
                {{"tool_call_id", "call_1"}, {"name", "get_weather"}}),
        message("assistant", "It is 22 °C in Paris.")},
       tools});
  out.push_back(
      {"tools_no_system", {message("user", "Weather in Paris?")}, tools});
  out.push_back({"variables",
                 {message("user", "Think about 17 * 3.")},
                 nullptr,
                 {{"enable_thinking", false},
                  {"date_string", "26 Jul 2024"},
                  {"reasoning_effort", "low"}}});
  return out;
}

struct Case {
  std::string label;
  const FixtureTemplate* tpl;
  ojson variables;
};

TEST(ChatTemplateParity, EveryFixtureTemplateMatchesJinja2) {
  fs::path fixtures = mlxt::testing::source_dir() / "../shared/fixtures";
  if (!fs::exists(fixtures / "chat_templates")) {
    GTEST_SKIP() << "no chat template fixtures under " << fixtures.string();
  }
  if (!mlxt::testing::have_reference_python()) {
    GTEST_SKIP() << "no reference python at "
                 << mlxt::testing::reference_python();
  }
  std::vector<FixtureTemplate> templates = collect_templates(fixtures);
  ASSERT_GT(templates.size(), 50u);

  std::vector<Case> cases;
  ojson request = {{"cases", ojson::array()}};
  for (const FixtureTemplate& t : templates) {
    for (const Conversation& c : conversations()) {
      for (bool prompt : {false, true}) {
        ojson variables = mlxt::tokenizer::detail::chat_template_variables(
            c.messages, prompt, c.variables, c.tools, t.config);
        cases.push_back(
            {t.name + " / " + c.name + (prompt ? " / generation prompt" : ""),
             &t,
             variables});
        request["cases"].push_back(
            {{"template", t.text}, {"variables", variables}});
      }
    }
  }
  mlxt::testing::TempDir work;
  mlxt::testing::write_file(work / "request.json", request.dump());
  auto run = mlxt::testing::run_command(
      {mlxt::testing::reference_python(),
       (mlxt::testing::source_dir() / "tests/oracles/render_chat_template.py")
           .string(),
       (work / "request.json").string(),
       (work / "output.json").string()});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ojson results =
      ojson::parse(mlxt::testing::read_file(work / "output.json"))["results"];
  ASSERT_EQ(results.size(), cases.size());

  std::map<std::string, mlxt::tokenizer::jinja::Template> parsed;
  std::size_t rendered = 0;
  std::size_t raised = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const ojson& expected = results[i];
    std::string ours;
    std::string error;
    try {
      auto it = parsed.find(c.tpl->name);
      if (it == parsed.end()) {
        it = parsed
                 .emplace(c.tpl->name,
                          mlxt::tokenizer::jinja::Template::parse(
                              c.tpl->text, {c.tpl->name, "chat_template"}))
                 .first;
      }
      ours = it->second.render(c.variables);
    } catch (const mlxt::Error& e) {
      error = e.what();
    }
    if (expected["ok"].get<bool>()) {
      EXPECT_EQ(error, "") << c.label;
      EXPECT_EQ(ours, expected["text"].get<std::string>()) << c.label;
      rendered += error.empty();
    } else {
      EXPECT_NE(error, "") << c.label << ": jinja2 raised "
                           << expected["error"].get<std::string>()
                           << " but we rendered:\n"
                           << ours;
      raised += !error.empty();
    }
  }
  std::cout << templates.size() << " templates, " << cases.size()
            << " cases: " << rendered << " rendered, " << raised
            << " raised as in jinja2\n";
}

} // namespace
