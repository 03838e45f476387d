// Unit tests of the tokenizer.json components one at a time: normalizers,
// pre-tokenizers (every Split behavior), decoders, added-token matching
// options, batch encoding, and the errors malformed files give. Expected
// values are what HF `tokenizers` 0.23 returns for the same input.
#include "mlxt/tokenizer/added_tokens.h"
#include "mlxt/tokenizer/decoder.h"
#include "mlxt/tokenizer/normalizer.h"
#include "mlxt/tokenizer/pretokenizer.h"
#include "mlxt/tokenizer/tokenizer.h"
#include "support/test_support.h"

namespace {

namespace detail = mlxt::tokenizer::detail;
using mlxt::tokenizer::Tokenizer;
using nlohmann::json;
using Words = std::vector<std::string>;

Words pre_tokenize(const json& spec, const std::string& text) {
  return detail::make_pre_tokenizer(spec, "t.json", "pre_tokenizer")
      ->words(text);
}

std::string normalize(const json& spec, const std::string& text) {
  return detail::make_normalizer(spec, "t.json", "normalizer")->normalize(text);
}

std::string decode(const json& spec, Words tokens) {
  detail::make_decoder(spec, "t.json", "decoder")->decode_chain(tokens);
  std::string text;
  for (const auto& token : tokens) {
    text += token;
  }
  return text;
}

json split_spec(const char* behavior, bool invert) {
  return {{"type", "Split"},
          {"pattern", {{"String", "-"}}},
          {"behavior", behavior},
          {"invert", invert}};
}

// A SentencePiece-style tokenizer.json over a few letters, with byte
// fallback for everything else.
json sentencepiece_style_json() {
  json vocab = {{"<unk>", 0},
                {"<s>", 1},
                {"</s>", 2},
                {"\xE2\x96\x81", 3},
                {"a", 4},
                {"b", 5},
                {"\xE2\x96\x81"
                 "a",
                 6}};
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", byte);
    vocab[name] = 7 + byte;
  }
  return {
      {"added_tokens",
       {{{"id", 1},
         {"content", "<s>"},
         {"special", true},
         {"normalized", false}}}},
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}},
          {{"type", "Replace"},
           {"pattern", {{"String", " "}}},
           {"content", "\xE2\x96\x81"}}}}}},
      {"pre_tokenizer", nullptr},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders",
         {{{"type", "Replace"},
           {"pattern", {{"String", "\xE2\x96\x81"}}},
           {"content", " "}},
          {{"type", "ByteFallback"}},
          {{"type", "Fuse"}},
          {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
      {"model",
       {{"type", "BPE"},
        {"unk_token", "<unk>"},
        {"fuse_unk", true},
        {"byte_fallback", true},
        {"vocab", vocab},
        {"merges", {"\xE2\x96\x81 a"}}}}};
}

} // namespace

TEST(PreTokenizers, SplitBehaviorsMatchHf) {
  const std::string text = "the-final--countdown";
  EXPECT_EQ(pre_tokenize(split_spec("Removed", false), text),
            (Words{"the", "final", "countdown"}));
  EXPECT_EQ(pre_tokenize(split_spec("Removed", true), text),
            (Words{"-", "-", "-"}));
  EXPECT_EQ(pre_tokenize(split_spec("Isolated", false), text),
            (Words{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(pre_tokenize(split_spec("MergedWithPrevious", false), text),
            (Words{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(pre_tokenize(split_spec("MergedWithPrevious", true), text),
            (Words{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(pre_tokenize(split_spec("MergedWithNext", false), text),
            (Words{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(pre_tokenize(split_spec("MergedWithNext", true), text),
            (Words{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(pre_tokenize(split_spec("Contiguous", false), text),
            (Words{"the", "-", "final", "--", "countdown"}));
}

TEST(PreTokenizers, CharacterClassSplittersMatchHf) {
  const std::string text = "Hello, world! 123 ok?";
  EXPECT_EQ(
      pre_tokenize({{"type", "Digits"}, {"individual_digits", false}}, text),
      (Words{"Hello, world! ", "123", " ok?"}));
  EXPECT_EQ(
      pre_tokenize({{"type", "Digits"}, {"individual_digits", true}}, text),
      (Words{"Hello, world! ", "1", "2", "3", " ok?"}));
  EXPECT_EQ(pre_tokenize({{"type", "Punctuation"}}, text),
            (Words{"Hello", ",", " world", "!", " 123 ok", "?"}));
  EXPECT_EQ(pre_tokenize({{"type", "Whitespace"}}, text),
            (Words{"Hello", ",", "world", "!", "123", "ok", "?"}));
  EXPECT_EQ(pre_tokenize({{"type", "WhitespaceSplit"}}, text),
            (Words{"Hello,", "world!", "123", "ok?"}));
  EXPECT_EQ(pre_tokenize({{"type", "BertPreTokenizer"}}, text),
            (Words{"Hello", ",", "world", "!", "123", "ok", "?"}));
}

TEST(PreTokenizers, MetaspacePrependSchemes) {
  const std::string bar = "\xE2\x96\x81";
  auto metaspace = [](const char* scheme, bool split) {
    return json{{"type", "Metaspace"},
                {"replacement", "\xE2\x96\x81"},
                {"prepend_scheme", scheme},
                {"split", split}};
  };
  EXPECT_EQ(pre_tokenize(metaspace("always", true), "Hey  friend"),
            (Words{bar + "Hey", bar, bar + "friend"}));
  EXPECT_EQ(pre_tokenize(metaspace("first", true), "Hey  friend"),
            (Words{bar + "Hey", bar, bar + "friend"}));
  EXPECT_EQ(pre_tokenize(metaspace("never", true), "Hey  friend"),
            (Words{"Hey", bar, bar + "friend"}));
  EXPECT_EQ(pre_tokenize(metaspace("always", false), "Hey friend"),
            (Words{bar + "Hey" + bar + "friend"}));
}

TEST(Normalizers, MatchHf) {
  EXPECT_EQ(normalize({{"type", "NFC"}}, "e\xCC\x81"), "\xC3\xA9");
  EXPECT_EQ(normalize({{"type", "NFD"}}, "\xC3\xA9"), "e\xCC\x81");
  EXPECT_EQ(normalize({{"type", "NFKC"}}, "\xEF\xAC\x81\xC2\xB2 \xEF\xBC\xA1"),
            "fi2 A");
  EXPECT_EQ(normalize({{"type", "NFKD"}}, "\xC3\xA9"), "e\xCC\x81");
  // U+0130 lowercases to two characters; no final-sigma rule.
  EXPECT_EQ(normalize({{"type", "Lowercase"}},
                      "\xC4\xB0"
                      "A \xCE\xA3\xCE\x91\xCE\xA3"),
            "i\xCC\x87"
            "a \xCF\x83\xCE\xB1\xCF\x83");
  EXPECT_EQ(
      normalize(
          {{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}},
          " \xE3\x80\x80x \n"),
      "x");
  EXPECT_EQ(normalize({{"type", "Replace"},
                       {"pattern", {{"Regex", "\\s+"}}},
                       {"content", "_"}},
                      "a  b\tc"),
            "a_b_c");
  EXPECT_EQ(normalize({{"type", "Prepend"}, {"prepend", "x"}}, ""), "");
  EXPECT_EQ(normalize({{"type", "StripAccents"}},
                      "e\xCC\x81"
                      "a"),
            "ea");
  EXPECT_EQ(normalize({{"type", "Sequence"},
                       {"normalizers",
                        {{{"type", "NFKC"}}, {{"type", "Lowercase"}}}}},
                      "\xEF\xBC\xA1"
                      "B"),
            "ab");
}

TEST(Decoders, MatchHf) {
  EXPECT_EQ(decode({{"type", "ByteFallback"}},
                   {"<0xE2>", "<0x96>", "<0x81>", "a", "<0xFF>", "<0xE2>"}),
            // one U+FFFD per byte of an invalid run, as HF
            "\xE2\x96\x81"
            "a\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(
      decode({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 1}},
             {"  a  ", " b"}),
      " a b");
  EXPECT_EQ(decode({{"type", "Metaspace"}, {"prepend_scheme", "always"}},
                   {"\xE2\x96\x81Hey",
                    "\xE2\x96\x81"
                    "friend"}),
            "Hey friend");
  EXPECT_EQ(decode({{"type", "Metaspace"}, {"prepend_scheme", "never"}},
                   {"\xE2\x96\x81Hey",
                    "\xE2\x96\x81"
                    "friend"}),
            " Hey friend");
  EXPECT_EQ(decode({{"type", "ByteLevel"}}, {"Hello", "\xC4\xA0world"}),
            "Hello world");
}

TEST(AddedTokens, HonourLstripRstripAndSingleWord) {
  json list = {
      {{"id", 0}, {"content", "<a>"}, {"lstrip", true}, {"special", true}},
      {{"id", 1}, {"content", "<b>"}, {"rstrip", true}, {"special", true}},
      {{"id", 2},
       {"content", "word"},
       {"single_word", true},
       {"normalized", false}}};
  // No model vocabulary: the tokens get ids 0, 1, 2 as HF assigns them.
  auto tokens = detail::AddedTokens::from_json(
      list,
      "t.json",
      nullptr,
      {[](std::string_view) { return std::optional<int>(); }, 0});
  auto segments =
      tokens.extract_and_normalize("x  <a>  y<b>  z words word.", nullptr);
  std::vector<std::pair<std::string, int>> got;
  for (const auto& s : segments) {
    got.emplace_back(s.text, s.id.value_or(-1));
  }
  EXPECT_EQ(got,
            (std::vector<std::pair<std::string, int>>{{"x", -1},
                                                      {"  <a>", 0},
                                                      {"  y", -1},
                                                      {"<b>  ", 1},
                                                      {"z words ", -1},
                                                      {"word", 2},
                                                      {".", -1}}));
}

TEST(Tokenizer, SentencePieceStyleBpeFallsBackToBytes) {
  auto tokenizer = Tokenizer::from_json(
      sentencepiece_style_json(), json::object(), "sp/tokenizer.json");
  // "▁a" merges; "b" is in the vocabulary; "é" is two byte tokens.
  EXPECT_EQ(tokenizer.encode("ab \xC3\xA9", false),
            (std::vector<int>{6, 5, 3, 7 + 0xC3, 7 + 0xA9}));
  EXPECT_EQ(tokenizer.decode({6, 5, 3, 7 + 0xC3, 7 + 0xA9}), "ab \xC3\xA9");
  // "<s>" in the text is the special token; the text after it is
  // normalized on its own (HF prepends "▁" there too).
  EXPECT_EQ(tokenizer.encode("<s>a", false), (std::vector<int>{1, 6}));
}

TEST(Tokenizer, EncodeBatchKeepsInputOrder) {
  auto tokenizer = Tokenizer::from_json(
      sentencepiece_style_json(), json::object(), "sp/tokenizer.json");
  std::vector<std::string> texts;
  for (int i = 0; i < 500; ++i) {
    texts.push_back(std::string(i % 17, 'a') + " b" + std::to_string(i));
  }
  auto batch = tokenizer.encode_batch(texts, true, 4);
  ASSERT_EQ(batch.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(batch[i], tokenizer.encode(texts[i], true)) << i;
  }
  texts[321] = "bad \xFF";
  EXPECT_MLXT_ERROR(
      tokenizer.encode_batch(texts, true, 4), invalid_data, "not valid UTF-8");
}

// tests/fixtures/bad/tokenizer/truncated_json: the first half of
// sentencepiece_style_json().dump(1), cut inside the vocabulary.
TEST(TokenizerErrors, TruncatedJsonNamesFileAndLine) {
  EXPECT_MLXT_ERROR(
      Tokenizer::load(mlxt::testing::bad_input("tokenizer/truncated_json")),
      invalid_model,
      "tokenizer.json:");
}

TEST(TokenizerErrors, BadMergesEntryNamesTheKey) {
  auto spec = sentencepiece_style_json();
  spec["model"]["merges"].push_back("a b c");
  EXPECT_MLXT_ERROR(
      Tokenizer::from_json(spec, json::object(), "sp/tokenizer.json"),
      invalid_model,
      "sp/tokenizer.json: model.merges[1]: expected \"left right\"");
  spec["model"]["merges"] = json::object();
  EXPECT_MLXT_ERROR(
      Tokenizer::from_json(spec, json::object(), "sp/tokenizer.json"),
      invalid_model,
      "model.merges: expected an array but received an object");
}

TEST(TokenizerErrors, BadNormalizerNamesTheKey) {
  auto spec = sentencepiece_style_json();
  spec["normalizer"]["normalizers"][1].erase("pattern");
  EXPECT_MLXT_ERROR(
      Tokenizer::from_json(spec, json::object(), "sp/tokenizer.json"),
      invalid_model,
      "sp/tokenizer.json: normalizer.normalizers[1].pattern: missing");
  spec["normalizer"] = {{"type", "Sequence"}, {"normalizers", "NFC"}};
  EXPECT_MLXT_ERROR(
      Tokenizer::from_json(spec, json::object(), "sp/tokenizer.json"),
      invalid_model,
      "normalizer.normalizers: expected an array but received a string");
}

TEST(TokenizerErrors, BadPreTokenizerAndDecoderNameTheKey) {
  auto spec = sentencepiece_style_json();
  spec["pre_tokenizer"] = {{"type", "Split"},
                           {"pattern", {{"String", " "}}},
                           {"behavior", "Sideways"}};
  EXPECT_MLXT_ERROR(
      Tokenizer::from_json(spec, json::object(), "sp/tokenizer.json"),
      invalid_model,
      "pre_tokenizer.behavior: unknown split behavior \"Sideways\"");
  spec["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "ab"}};
  EXPECT_MLXT_ERROR(
      Tokenizer::from_json(spec, json::object(), "sp/tokenizer.json"),
      invalid_model,
      "pre_tokenizer.replacement: expected a single character");
  spec["pre_tokenizer"] = nullptr;
  spec["decoder"]["decoders"][3].erase("start");
  EXPECT_MLXT_ERROR(
      Tokenizer::from_json(spec, json::object(), "sp/tokenizer.json"),
      invalid_model,
      "decoder.decoders[3].start");
}

TEST(TokenizerErrors, BadTokenizerModelFilesNameTheFile) {
  EXPECT_MLXT_ERROR(Tokenizer::load(mlxt::testing::bad_input(
                        "tokenizer/tiktoken_bad_base64")),
                    invalid_model,
                    "tokenizer.model:3: expected \"<base64 token> <rank>\"");
  EXPECT_MLXT_ERROR(Tokenizer::load(mlxt::testing::bad_input(
                        "tokenizer/sentencepiece_garbage")),
                    invalid_model,
                    "tokenizer.model: not a SentencePiece model");
}
