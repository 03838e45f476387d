// Tokenizer unit tests: byte-level BPE encoding/decoding, added tokens,
// special-token framing, ChatML rendering, the trainer and every error path.
#include <chrono>
#include <iostream>
#include <random>

#include "mlxt/tokenizer/byte_level.h"
#include "mlxt/tokenizer/tokenizer.h"
#include "support/test_support.h"

namespace {

using mlxt::tokenizer::BpeTrainOptions;
using mlxt::tokenizer::ChatMessage;
using mlxt::tokenizer::Tokenizer;
using mlxt::tokenizer::train_byte_level_bpe;
using nlohmann::json;

const char* kChatMl =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' "
    "+ message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if "
    "add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

// A deterministic corpus: sentences of made-up words built from syllables
// (so there is plenty to merge), numbers, code and some non-ASCII text.
std::vector<std::string> make_corpus(int sentences) {
  const std::vector<std::string> syllables = {
      "ka", "to", "ri", "men", "sul", "th", "ing", "er", "qu", "an",
      "ü",  "é",  "日", "本",  "語",  "😀",  "x",   "z",  "ph", "ou"};
  const std::vector<std::string> extras = {
      "42", "3.14", "2024", "x=1;", "f(x)", "don't", "it's", "\t", "  ", "!?"};
  std::mt19937 rng(1234);
  std::vector<std::string> corpus;
  for (int s = 0; s < sentences; ++s) {
    std::string sentence;
    int length = 4 + static_cast<int>(rng() % 12);
    for (int w = 0; w < length; ++w) {
      if (w > 0) {
        sentence += ' ';
      }
      if (rng() % 6 == 0) {
        sentence += extras[rng() % extras.size()];
        continue;
      }
      int parts = 1 + static_cast<int>(rng() % 3);
      for (int p = 0; p < parts; ++p) {
        sentence += syllables[rng() % syllables.size()];
      }
    }
    sentence += (s % 5 == 0) ? ".\n\n" : ". ";
    corpus.push_back(sentence);
  }
  return corpus;
}

BpeTrainOptions chat_options(int vocab_size) {
  BpeTrainOptions options;
  options.vocab_size = vocab_size;
  options.special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  return options;
}

Tokenizer trained_tokenizer() {
  auto [tokenizer_json, config] =
      train_byte_level_bpe(make_corpus(400), chat_options(600));
  return Tokenizer::from_json(tokenizer_json, config, "trained/tokenizer.json");
}

// A hand-written byte-level BPE over "a".."e" whose merges make the rank
// order visible: "b c" before "a b".
json tiny_tokenizer_json() {
  return {{"version", "1.0"},
          {"added_tokens",
           {{{"id", 9},
             {"content", "<x>"},
             {"special", true},
             {"normalized", false}},
            {{"id", 10},
             {"content", "<x>y"},
             {"special", false},
             {"normalized", false}}}},
          {"normalizer", nullptr},
          {"pre_tokenizer",
           {{"type", "ByteLevel"},
            {"add_prefix_space", false},
            {"use_regex", true}}},
          {"post_processor", nullptr},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model",
           {{"type", "BPE"},
            {"vocab",
             {{"a", 0},
              {"b", 1},
              {"c", 2},
              {"d", 3},
              {"y", 4},
              {"bc", 5},
              {"ab", 6},
              {"abc", 7},
              {"Ġ", 8}}},
            {"merges", {"b c", json::array({"a", "b"}), "a bc"}}}}};
}

} // namespace

TEST(ByteLevel, MapsBytesLikeGpt2) {
  const auto& symbols = mlxt::tokenizer::detail::byte_symbols();
  EXPECT_EQ(symbols['!'], "!");
  EXPECT_EQ(symbols[' '], "Ġ");
  EXPECT_EQ(symbols['\n'], "Ċ");
  EXPECT_EQ(symbols[0], "Ā");
  EXPECT_EQ(symbols[0xAD], "Ń");
  EXPECT_EQ(mlxt::tokenizer::detail::token_to_bytes("ĠhelloĊ"), " hello\n");
  // A token with characters outside the byte alphabet stands for itself.
  EXPECT_EQ(mlxt::tokenizer::detail::token_to_bytes("<|a b|>"), "<|a b|>");
}

TEST(Tokenizer, AppliesMergesByRank) {
  auto tokenizer =
      Tokenizer::from_json(tiny_tokenizer_json(), json::object(), "tiny.json");
  // (b,c) has rank 0, so "abc" goes a|bc -> abc, never ab|c.
  EXPECT_EQ(tokenizer.encode("abc"), (std::vector<int>{7}));
  EXPECT_EQ(tokenizer.encode("abd"), (std::vector<int>{6, 3}));
  EXPECT_EQ(tokenizer.encode("abc abc"), (std::vector<int>{7, 8, 7}));
  EXPECT_EQ(tokenizer.vocab_size(), 11);
  EXPECT_EQ(tokenizer.token_to_id("bc"), 5);
  EXPECT_EQ(tokenizer.token_to_id("<x>"), 9);
  EXPECT_EQ(tokenizer.token_to_id("zz"), std::nullopt);
}

TEST(Tokenizer, MatchesLongestAddedTokenFirst) {
  auto tokenizer =
      Tokenizer::from_json(tiny_tokenizer_json(), json::object(), "tiny.json");
  EXPECT_EQ(tokenizer.encode("a<x>yb"), (std::vector<int>{0, 10, 1}));
  EXPECT_EQ(tokenizer.encode("a<x>b"), (std::vector<int>{0, 9, 1}));
  EXPECT_EQ(tokenizer.decode({0, 9, 1}, true), "ab");
  EXPECT_EQ(tokenizer.decode({0, 9, 1}, false), "a<x>b");
  // Non-special added tokens survive skip_special_tokens.
  EXPECT_EQ(tokenizer.decode({10}, true), "<x>y");
}

TEST(Tokenizer, RoundTripsText) {
  auto tokenizer = trained_tokenizer();
  for (const std::string text : {"",
                                 "hello world",
                                 "  leading and trailing  ",
                                 "tabs\tand\nnewlines\n\n",
                                 "digits 1234567890 and 3.14159",
                                 "punctuation!?... (f(x) = y;)",
                                 "über café naïve",
                                 "日本語のテキスト",
                                 "emoji 😀🎉 and flags 🇯🇵",
                                 "mixed\r\nline endings\r",
                                 "don't it's we're I'll"}) {
    auto ids = tokenizer.encode(text, false);
    EXPECT_EQ(tokenizer.decode(ids, false), text);
  }
}

TEST(Tokenizer, MapsSpecialTokenTextToSpecialIds) {
  auto tokenizer = trained_tokenizer();
  int im_start = *tokenizer.token_to_id("<|im_start|>");
  int im_end = *tokenizer.token_to_id("<|im_end|>");
  auto ids = tokenizer.encode("<|im_start|>user\nhi<|im_end|>");
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), im_start);
  EXPECT_EQ(ids.back(), im_end);
  EXPECT_EQ(tokenizer.decode(ids, true), "user\nhi");
  EXPECT_EQ(tokenizer.decode(ids, false), "<|im_start|>user\nhi<|im_end|>");
  EXPECT_EQ(tokenizer.bos_id(), tokenizer.token_to_id("<|endoftext|>"));
  EXPECT_EQ(tokenizer.eos_id(), im_end);
  EXPECT_EQ(tokenizer.pad_id(), tokenizer.token_to_id("<|endoftext|>"));
}

TEST(Tokenizer, AddsBosWhenConfigSaysSo) {
  auto [tokenizer_json, config] =
      train_byte_level_bpe(make_corpus(50), chat_options(400));
  config["add_bos_token"] = true;
  auto tokenizer =
      Tokenizer::from_json(tokenizer_json, config, "t/tokenizer.json");
  int bos = *tokenizer.bos_id();
  auto with = tokenizer.encode("hi");
  auto without = tokenizer.encode("hi", false);
  ASSERT_EQ(with.size(), without.size() + 1);
  EXPECT_EQ(with.front(), bos);
}

TEST(Tokenizer, FollowsTemplateProcessing) {
  auto tokenizer_json = tiny_tokenizer_json();
  // Llama 3's shape: ByteLevel, then a template that puts BOS first.
  tokenizer_json["post_processor"] = json::parse(R"({
    "type": "Sequence",
    "processors": [
      {"type": "ByteLevel"},
      {"type": "TemplateProcessing",
       "single": [{"SpecialToken": {"id": "<x>", "type_id": 0}},
                  {"Sequence": {"id": "A", "type_id": 0}}],
       "special_tokens": {"<x>": {"id": "<x>", "ids": [9], "tokens": ["<x>"]}}}
    ]})");
  auto tokenizer =
      Tokenizer::from_json(tokenizer_json, json::object(), "tiny.json");
  EXPECT_EQ(tokenizer.encode("abc"), (std::vector<int>{9, 7}));
  EXPECT_EQ(tokenizer.encode("abc", false), (std::vector<int>{7}));
}

TEST(Tokenizer, RunsSplitThenByteLevel) {
  // Llama 3 / Qwen2 style: the Split regex cuts digits into groups of three,
  // and ByteLevel only maps bytes.
  json tokenizer_json = {{"pre_tokenizer",
                          {{"type", "Sequence"},
                           {"pretokenizers",
                            {{{"type", "Split"},
                              {"pattern", {{"Regex", "\\p{N}{1,3}"}}},
                              {"behavior", "Isolated"},
                              {"invert", false}},
                             {{"type", "ByteLevel"},
                              {"add_prefix_space", false},
                              {"use_regex", false}}}}}},
                         {"decoder", {{"type", "ByteLevel"}}},
                         {"model",
                          {{"type", "BPE"},
                           {"vocab",
                            {{"1", 0},
                             {"2", 1},
                             {"3", 2},
                             {"4", 3},
                             {"5", 4},
                             {"12", 5},
                             {"123", 6},
                             {"1234", 7},
                             {"45", 8}}},
                           {"merges", {"1 2", "12 3", "123 4", "4 5"}}}}};
  auto tokenizer =
      Tokenizer::from_json(tokenizer_json, json::object(), "split.json");
  EXPECT_EQ(tokenizer.encode("12345"), (std::vector<int>{6, 8}));
  tokenizer_json["pre_tokenizer"] = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}};
  auto unsplit =
      Tokenizer::from_json(tokenizer_json, json::object(), "split.json");
  EXPECT_EQ(unsplit.encode("12345"), (std::vector<int>{7, 4}));
}

TEST(Tokenizer, DecodesBrokenUtf8Lossily) {
  auto tokenizer = trained_tokenizer();
  // The first byte of "é" (0xC3) alone is not valid UTF-8.
  int lead_byte =
      *tokenizer.token_to_id(mlxt::tokenizer::detail::byte_symbols()[0xC3]);
  EXPECT_EQ(tokenizer.decode({lead_byte}), "\xEF\xBF\xBD");
}

TEST(Tokenizer, LoadsModelFolderWithChatMl) {
  mlxt::testing::TempDir dir;
  auto [tokenizer_json, config] =
      train_byte_level_bpe(make_corpus(100), chat_options(400));
  mlxt::testing::write_file(dir / "tokenizer.json", tokenizer_json.dump());
  mlxt::testing::write_file(dir / "tokenizer_config.json", config.dump());
  auto tokenizer = Tokenizer::load(dir.path());
  ASSERT_TRUE(tokenizer.has_chat_template());
  std::vector<ChatMessage> messages = {{"system", "Be brief."},
                                       {"user", "Hi!\nHow are you?"},
                                       {"assistant", "Fine."}};
  EXPECT_EQ(tokenizer.apply_chat_template(messages, false),
            "<|im_start|>system\nBe brief.<|im_end|>\n"
            "<|im_start|>user\nHi!\nHow are you?<|im_end|>\n"
            "<|im_start|>assistant\nFine.<|im_end|>\n");
  EXPECT_EQ(tokenizer.apply_chat_template({{"user", "x"}}, true),
            "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(config["chat_template"], kChatMl);
}

TEST(Tokenizer, ReadsChatTemplateJinjaFile) {
  mlxt::testing::TempDir dir;
  auto [tokenizer_json, config] =
      train_byte_level_bpe(make_corpus(50), chat_options(400));
  config.erase("chat_template");
  mlxt::testing::write_file(dir / "tokenizer.json", tokenizer_json.dump());
  mlxt::testing::write_file(dir / "tokenizer_config.json", config.dump());
  EXPECT_FALSE(Tokenizer::load(dir.path()).has_chat_template());
  mlxt::testing::write_file(dir / "chat_template.jinja", kChatMl);
  EXPECT_TRUE(Tokenizer::load(dir.path()).has_chat_template());
}

TEST(BpeTrainer, IsDeterministicAndFillsTheVocabulary) {
  auto corpus = make_corpus(300);
  auto first = train_byte_level_bpe(corpus, chat_options(500));
  auto second = train_byte_level_bpe(corpus, chat_options(500));
  EXPECT_EQ(first.first.dump(), second.first.dump());
  EXPECT_EQ(first.second.dump(), second.second.dump());

  const json& model = first.first["model"];
  EXPECT_EQ(model["vocab"].size(), 500u);
  EXPECT_EQ(model["merges"].size(), 500u - 256u - 3u);
  EXPECT_EQ(model["vocab"]["!"], 0);
  EXPECT_EQ(model["vocab"]["Ġ"], 220); // as in GPT-2
  EXPECT_EQ(model["vocab"]["<|endoftext|>"], 497);
  EXPECT_EQ(first.first["added_tokens"][2]["content"], "<|im_end|>");
  EXPECT_EQ(first.first["added_tokens"][2]["id"], 499);
}

TEST(BpeTrainer, StopsAtMinFrequency) {
  BpeTrainOptions options;
  options.vocab_size = 1000;
  options.min_frequency = 3;
  auto [tokenizer_json, config] =
      train_byte_level_bpe({"ab ab ab cd cd"}, options);
  // Only "a b" (3 times) reaches the threshold; "Ġ a" / "Ġ c" do not.
  ASSERT_EQ(tokenizer_json["model"]["merges"].size(), 1u);
  EXPECT_EQ(tokenizer_json["model"]["merges"][0], json::array({"a", "b"}));
  EXPECT_EQ(config["bos_token"], nullptr);
}

TEST(BpeTrainer, BreaksTiesByPairText) {
  BpeTrainOptions options;
  options.vocab_size = 257;
  options.min_frequency = 1;
  auto [tokenizer_json, config] = train_byte_level_bpe({"yz ab"}, options);
  // "yz" and "Ġa", "ab" all occur once; "Ġ" (U+0120) sorts after "a" and
  // "y", so ("a", "b") wins.
  EXPECT_EQ(tokenizer_json["model"]["merges"][0], json::array({"a", "b"}));
}

TEST(TokenizerErrors, MalformedJson) {
  EXPECT_MLXT_ERROR(
      Tokenizer::load(mlxt::testing::bad_input("tokenizer/malformed_json")),
      invalid_model,
      "tokenizer.json:3: malformed JSON");
}

TEST(TokenizerErrors, MissingTokenizerJson) {
  mlxt::testing::TempDir dir;
  EXPECT_MLXT_ERROR(Tokenizer::load(dir.path()),
                    not_found,
                    "no tokenizer.json or tokenizer.model");
}

TEST(TokenizerErrors, MissingVocab) {
  auto tokenizer_json = tiny_tokenizer_json();
  tokenizer_json["model"].erase("vocab");
  EXPECT_MLXT_ERROR(
      Tokenizer::from_json(tokenizer_json, json::object(), "m/tokenizer.json"),
      invalid_model,
      "m/tokenizer.json: model.vocab: missing required key");
}

TEST(TokenizerErrors, UnsupportedModelType) {
  auto tokenizer_json = tiny_tokenizer_json();
  tokenizer_json["model"]["type"] = "Unigram";
  EXPECT_MLXT_ERROR(
      Tokenizer::from_json(tokenizer_json, json::object(), "m/tokenizer.json"),
      unsupported,
      "model.type: model type \"Unigram\" is not supported");
}

TEST(TokenizerErrors, UnsupportedNormalizer) {
  auto tokenizer_json = tiny_tokenizer_json();
  tokenizer_json["normalizer"] = {
      {"type", "Sequence"},
      {"normalizers", {{{"type", "NFC"}}, {{"type", "Precompiled"}}}}};
  EXPECT_MLXT_ERROR(
      Tokenizer::from_json(tokenizer_json, json::object(), "m/tokenizer.json"),
      unsupported,
      "m/tokenizer.json: normalizer.normalizers[1].type: normalizer "
      "\"Precompiled\" is not supported");
}

TEST(TokenizerErrors, UnsupportedPreTokenizer) {
  auto tokenizer_json = tiny_tokenizer_json();
  tokenizer_json["pre_tokenizer"] = {{"type", "UnicodeScripts"}};
  EXPECT_MLXT_ERROR(
      Tokenizer::from_json(tokenizer_json, json::object(), "m/tokenizer.json"),
      unsupported,
      "pre_tokenizer.type: pre-tokenizer \"UnicodeScripts\"");
}

TEST(TokenizerErrors, UnsupportedDecoder) {
  auto tokenizer_json = tiny_tokenizer_json();
  tokenizer_json["decoder"] = {{"type", "WordPiece"}};
  EXPECT_MLXT_ERROR(
      Tokenizer::from_json(tokenizer_json, json::object(), "m/tokenizer.json"),
      unsupported,
      "decoder.type: decoder \"WordPiece\"");
}

TEST(TokenizerErrors, MergeOutsideVocab) {
  auto tokenizer_json = tiny_tokenizer_json();
  tokenizer_json["model"]["merges"].push_back("c d");
  EXPECT_MLXT_ERROR(
      Tokenizer::from_json(tokenizer_json, json::object(), "m/tokenizer.json"),
      invalid_model,
      "model.merges[3]: merge refers to \"cd\"");
}

TEST(TokenizerErrors, BadSplitRegex) {
  auto tokenizer_json = tiny_tokenizer_json();
  tokenizer_json["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"},
         {"pattern", {{"Regex", "(unclosed"}}},
         {"behavior", "Isolated"}},
        {{"type", "ByteLevel"}, {"use_regex", false}}}}};
  EXPECT_MLXT_ERROR(
      Tokenizer::from_json(tokenizer_json, json::object(), "m/tokenizer.json"),
      invalid_model,
      "pre_tokenizer.pretokenizers[0].pattern.Regex: regex does not compile");
}

TEST(TokenizerErrors, UnknownSpecialTokenInConfig) {
  EXPECT_MLXT_ERROR(Tokenizer::from_json(tiny_tokenizer_json(),
                                         {{"eos_token", {{"content", "</s>"}}}},
                                         "m/tokenizer.json"),
                    invalid_model,
                    "m/tokenizer_config.json: eos_token: \"</s>\" is neither");
}

TEST(Tokenizer, RendersTheConfigsOwnJinjaTemplate) {
  json config = {{"bos_token", "<x>"},
                 {"chat_template",
                  "{{ bos_token }}{% for m in messages %}[{{ m.role }}]"
                  "{{ m['content'] | trim }}{% if m.name is defined %}"
                  "({{ m.name }}){% endif %}{% endfor %}{% if tools %}"
                  "{{ tools | tojson }}{% endif %}{% if add_generation_prompt "
                  "%}[assistant]{% endif %}{{ greeting | default('') }}"}};
  auto tokenizer =
      Tokenizer::from_json(tiny_tokenizer_json(), config, "m/tokenizer.json");
  EXPECT_TRUE(tokenizer.has_chat_template());
  ChatMessage tool_result{"tool", " 42 "};
  tool_result.extra = {{"name", "calc"}};
  EXPECT_EQ(tokenizer.apply_chat_template(
                {{"user", " hi "}, tool_result},
                true,
                {{"greeting", "!"}},
                nlohmann::ordered_json::array({{{"z", 1}, {"a", 2}}})),
            "<x>[user]hi[tool]42(calc)[{\"z\": 1, \"a\": 2}][assistant]!");
}

TEST(TokenizerErrors, ChatTemplateErrorsNameTheKeyAndLine) {
  json config = {{"chat_template", "line one\n{% for m in messages %}"}};
  auto tokenizer =
      Tokenizer::from_json(tiny_tokenizer_json(), config, "m/tokenizer.json");
  EXPECT_TRUE(tokenizer.has_chat_template());
  EXPECT_MLXT_ERROR(tokenizer.apply_chat_template({{"user", "hi"}}, true),
                    invalid_model,
                    "m/tokenizer_config.json: chat_template: template line 2: "
                    "syntax error");
  json raising = {
      {"chat_template", "{{ raise_exception('roles must alternate') }}"}};
  EXPECT_MLXT_ERROR(
      Tokenizer::from_json(tiny_tokenizer_json(), raising, "m/tokenizer.json")
          .apply_chat_template({{"user", "hi"}}, true),
      invalid_data,
      "the template raised an error: roles must alternate");
}

TEST(Tokenizer, PicksTheToolUseTemplateWhenToolsAreGiven) {
  json config = {
      {"chat_template",
       json::array({{{"name", "default"}, {"template", "plain"}},
                    {{"name", "tool_use"}, {"template", "tools"}}})}};
  auto tokenizer =
      Tokenizer::from_json(tiny_tokenizer_json(), config, "m/tokenizer.json");
  EXPECT_EQ(tokenizer.apply_chat_template({{"user", "hi"}}, false), "plain");
  EXPECT_EQ(tokenizer.apply_chat_template(
                {{"user", "hi"}}, false, {}, nlohmann::ordered_json::array()),
            "tools");
}

TEST(TokenizerErrors, MissingChatTemplate) {
  auto tokenizer = Tokenizer::from_json(
      tiny_tokenizer_json(), json::object(), "m/tokenizer.json");
  EXPECT_MLXT_ERROR(tokenizer.apply_chat_template({{"user", "hi"}}, true),
                    invalid_model,
                    "chat_template: the tokenizer has no chat_template");
}

TEST(TokenizerErrors, InvalidUtf8AndUnknownIds) {
  auto tokenizer = Tokenizer::from_json(
      tiny_tokenizer_json(), json::object(), "m/tokenizer.json");
  EXPECT_MLXT_ERROR(tokenizer.encode("ab\xFF"),
                    invalid_data,
                    "not valid UTF-8 (bad byte at offset 2)");
  EXPECT_MLXT_ERROR(tokenizer.decode({0, 99}),
                    invalid_data,
                    "id 99 is not in the vocabulary (size 11)");
}

TEST(TokenizerErrors, TrainerVocabTooSmall) {
  EXPECT_MLXT_ERROR(train_byte_level_bpe({"x"}, chat_options(100)),
                    invalid_config,
                    "vocab_size must be at least");
}

TEST(Tokenizer, EncodesMegabytesInSeconds) {
  auto tokenizer = trained_tokenizer();
  std::string text;
  for (const auto& sentence : make_corpus(40000)) {
    text += sentence;
  }
  // One 200k-character word checks that long words do not go quadratic.
  text += " " + std::string(200000, '7');
  auto start = std::chrono::steady_clock::now();
  auto ids = tokenizer.encode(text);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::cout << "encoded " << text.size() << " bytes into " << ids.size()
            << " ids in " << seconds << " s\n";
  EXPECT_EQ(tokenizer.decode(ids), text);
  // A loose bound: real speed is far higher; this catches O(n^2) paths.
  EXPECT_LT(seconds, 30.0);
}
