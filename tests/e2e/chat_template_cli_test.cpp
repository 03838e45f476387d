// End-to-end: `mlxt chat-template` renders a conversation file with the
// model folder's own template, and `mlxt tokenize` prints ids and pieces.
#include <nlohmann/json.hpp>

#include "mlxt/tokenizer/tokenizer.h"
#include "support/test_support.h"

namespace {

using namespace mlxt::testing;
using nlohmann::json;

// A tokenizer-only model folder whose template shows roles, tool calls and
// a variable, so the output proves each reached the template.
void write_tokenizer(const std::filesystem::path& dir) {
  mlxt::tokenizer::BpeTrainOptions options;
  options.vocab_size = 300;
  options.special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  auto [tokenizer_json, config] = mlxt::tokenizer::train_byte_level_bpe(
      {"hello world, the quick brown fox", "user assistant tool"}, options);
  config["chat_template"] =
      "{% for m in messages %}<|im_start|>{{ m.role }}\n"
      "{{ m.content }}{% if m.tool_calls %}{{ m.tool_calls | tojson }}"
      "{% endif %}<|im_end|>\n{% endfor %}{% if tools %}tools: "
      "{{ tools | map(attribute='name') | join(',') }}\n{% endif %}"
      "{% if add_generation_prompt %}<|im_start|>assistant\n{{ prefix }}"
      "{% endif %}";
  write_file(dir / "tokenizer.json", tokenizer_json.dump());
  write_file(dir / "tokenizer_config.json", config.dump());
}

TEST(ChatTemplateCli, RendersAFileAndPrintsTokens) {
  TempDir dir;
  write_tokenizer(dir.path());
  write_file(dir / "chat.json", R"({
    "messages": [
      {"role": "user", "content": "hello"},
      {"role": "assistant", "content": null,
       "tool_calls": [{"name": "f", "arguments": {"b": 1, "a": 2}}]}],
    "tools": [{"name": "f"}, {"name": "g"}],
    "variables": {"prefix": "Sure"}})");
  auto result = run_command({mlxt_binary(),
                             "chat-template",
                             "--model",
                             dir.path().string(),
                             (dir / "chat.json").string(),
                             "--add-generation-prompt",
                             "--tokens"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string text =
      "<|im_start|>user\nhello<|im_end|>\n"
      "<|im_start|>assistant\nNone[{\"name\": \"f\", \"arguments\": "
      "{\"b\": 1, \"a\": 2}}]<|im_end|>\n"
      "tools: f,g\n<|im_start|>assistant\nSure";
  auto tokenizer = mlxt::tokenizer::Tokenizer::load(dir.path());
  EXPECT_EQ(result.output,
            text + "\n" + json(tokenizer.encode(text, false)).dump() + "\n");
}

TEST(ChatTemplateCli, ListOfMessagesWithoutPrompt) {
  TempDir dir;
  write_tokenizer(dir.path());
  write_file(dir / "chat.json", R"([{"role": "user", "content": "hi"}])");
  auto result = run_command({mlxt_binary(),
                             "chat-template",
                             "--model",
                             dir.path().string(),
                             (dir / "chat.json").string()});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "<|im_start|>user\nhi<|im_end|>\n");
}

TEST(ChatTemplateCli, BadFilesFailWithOneMessage) {
  TempDir dir;
  write_tokenizer(dir.path());
  write_file(dir / "chat.json", R"([{"content": "no role"}])");
  auto result = run_command({mlxt_binary(),
                             "chat-template",
                             "--model",
                             dir.path().string(),
                             (dir / "chat.json").string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("messages[0]: expected an object with a string "
                               "role"),
            std::string::npos)
      << result.output;
}

TEST(TokenizeCli, PrintsIdsAndPieces) {
  TempDir dir;
  write_tokenizer(dir.path());
  auto result = run_command({mlxt_binary(),
                             "tokenize",
                             "--model",
                             dir.path().string(),
                             "hello<|im_end|>",
                             "--no-special"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto tokenizer = mlxt::tokenizer::Tokenizer::load(dir.path());
  std::vector<int> ids = tokenizer.encode("hello<|im_end|>", false);
  json pieces = json::array();
  for (int id : ids) {
    pieces.push_back(tokenizer.decode({id}, false));
  }
  EXPECT_EQ(pieces.back(), "<|im_end|>");
  EXPECT_EQ(result.output,
            "ids: " + json(ids).dump() + "\ntokens: " + pieces.dump() + "\n");
}

} // namespace
