// Prompt rows for online RL (data/prompt_data.h): each accepted shape
// encodes to the chat template's rendering with the generation prompt, the
// answer is kept, long prompts keep their end, and every wrong shape is a
// named error (file, line, key) before training.
#include <nlohmann/json.hpp>

#include "mlxt/data/encode.h"
#include "mlxt/data/prompt_data.h"
#include "support/test_support.h"

namespace {

using namespace mlxt::testing;
using namespace mlxt::data;
using nlohmann::json;

class PromptData : public ::testing::Test {
protected:
  void SetUp() override {
    mlxt::tokenizer::BpeTrainOptions options;
    options.vocab_size = 300;
    options.special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    auto [tokenizer_json, config] = mlxt::tokenizer::train_byte_level_bpe(
        {"What is 2 + 3? 5. Name a colour: red, blue."}, options);
    write_file(dir_ / "model/tokenizer.json", tokenizer_json.dump());
    write_file(dir_ / "model/tokenizer_config.json", config.dump());
    tok_.emplace(mlxt::tokenizer::Tokenizer::load(dir_ / "model"));
  }

  PromptSplit load(const std::string& rows, int max_tokens = 512) {
    write_file(dir_ / "train.jsonl", rows);
    return load_prompt_split(dir_ / "train.jsonl", *tok_, max_tokens, "grpo");
  }

  std::vector<int32_t>
  rendered(const std::vector<mlxt::data::Message>& messages) {
    std::vector<int> ids = tok_->encode(
        tok_->apply_chat_template(chat_messages(messages), true), false);
    return {ids.begin(), ids.end()};
  }

  void expect_refused(const std::string& row,
                      const std::string& key,
                      const std::string& words) {
    SCOPED_TRACE(row);
    try {
      load("{\"prompt\": \"fine\"}\n" + row + "\n");
      ADD_FAILURE() << "accepted";
    } catch (const mlxt::Error& e) {
      EXPECT_EQ(e.code(), mlxt::ErrorCode::invalid_data) << e.what();
      EXPECT_EQ(e.context().key, key) << e.what();
      EXPECT_EQ(e.context().line, 2) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("train.jsonl"), std::string::npos);
    }
  }

  TempDir dir_;
  std::optional<mlxt::tokenizer::Tokenizer> tok_;
};

TEST_F(PromptData, EveryShapeEncodesWithTheGenerationPrompt) {
  const PromptSplit s =
      load(json{{"prompt", "What is 2 + 3?"}, {"answer", "5"}}.dump() + "\n" +
           json{{"prompt", {{{"role", "user"}, {"content", "Name a colour"}}}}}
               .dump() +
           "\n" +
           json{{"messages",
                 {{{"role", "user"}, {"content", "What is 2 + 3?"}},
                  {{"role", "assistant"}, {"content", "5"}},
                  {{"role", "user"}, {"content", "Name a colour"}}}},
                {"system", "Be brief."},
                {"answer", 7}}
               .dump() +
           "\n");
  ASSERT_EQ(s.rows.size(), 3u);
  EXPECT_EQ(s.rows[0].tokens, rendered({{"user", "What is 2 + 3?", {}}}));
  EXPECT_EQ(s.rows[0].answer, "5");
  EXPECT_EQ(s.rows[1].tokens, rendered({{"user", "Name a colour", {}}}));
  EXPECT_FALSE(s.rows[1].answer.has_value());
  EXPECT_EQ(s.rows[2].tokens,
            rendered({{"system", "Be brief.", {}},
                      {"user", "What is 2 + 3?", {}},
                      {"assistant", "5", {}},
                      {"user", "Name a colour", {}}}));
  EXPECT_EQ(s.rows[2].answer, "7"); // a number keeps its JSON text
  EXPECT_EQ(s.with_answer, 2u);
  EXPECT_EQ(s.rows[2].line, 3);
}

TEST_F(PromptData, ALongPromptKeepsItsLastTokens) {
  const std::string row = json{{"prompt", "What is 2 + 3?"}}.dump() + "\n";
  const std::vector<int32_t> whole = load(row).rows[0].tokens;
  ASSERT_GT(whole.size(), 4u);
  const PromptSplit cut = load(row, 4);
  EXPECT_EQ(cut.rows[0].tokens,
            std::vector<int32_t>(whole.end() - 4, whole.end()));
  EXPECT_EQ(cut.summary.truncated, 1u);
}

TEST_F(PromptData, WrongShapesAreNamedErrors) {
  expect_refused(R"({"prompt": "a", "completion": "b"})",
                 "completion",
                 "prompt-only rows");
  expect_refused(R"({"prompt": "a", "chosen": "b", "rejected": "c"})",
                 "chosen",
                 "prompt-only rows");
  expect_refused(R"({"messages": [{"role": "user", "content": "a"}, )"
                 R"({"role": "assistant", "content": "b"}]})",
                 "messages[1]",
                 "end with a user turn");
  expect_refused(R"({"text": "a"})", "prompt", "missing");
  expect_refused(R"({"prompt": []})", "prompt", "non-empty");
  expect_refused(R"({"prompt": "a", "answer": [1]})", "answer", "string");
  expect_refused(R"({"prompt": [{"role": "robot", "content": "a"}, )"
                 R"({"role": "user", "content": "b"}]})",
                 "prompt[0].role",
                 "unknown role");
}

} // namespace
