// Parity of mlxt's tokenizer with Hugging Face `tokenizers` / `transformers`
// (tests/oracles/hf_tokenize.py): identical ids, decoded text and ChatML
// rendering for a few hundred varied strings, on a tokenizer trained here
// (plus two pre-tokenizer variants) and on GPT-2's tokenizer.json.
#include <chrono>
#include <random>
#include <sstream>

#include "mlxt/tokenizer/tokenizer.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using mlxt::tokenizer::BpeTrainOptions;
using mlxt::tokenizer::ChatMessage;
using mlxt::tokenizer::Tokenizer;
using nlohmann::json;

// Llama 3's Split pattern (HF tokenizer.json, pre_tokenizer.pretokenizers[0]).
const char* kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// About 200 KB of text: prose-like sentences of made-up words, code, numbers
// and several scripts.
std::vector<std::string> make_training_corpus() {
  const std::vector<std::string> syllables = {
      "the", "ka", "to", "ri", "men", "sul", "th", "ing", "er", "qu", "an",
      "ion", "ed", "s",  "ü",  "é",   "ñ",   "日", "本",  "語", "の", "テ",
      "キ",  "😀",  "x",  "z",  "ph",  "ou",  "ст", "ро",  "ка"};
  const std::vector<std::string> extras = {"42",
                                           "3.14159",
                                           "2024-01-01",
                                           "x = f(y);",
                                           "if (a && b) {",
                                           "}",
                                           "don't",
                                           "it's",
                                           "we'll",
                                           "\t",
                                           "    ",
                                           "\n",
                                           "!?",
                                           "...",
                                           "#include",
                                           "<|endoftext|>"};
  std::mt19937 rng(20240601);
  std::vector<std::string> corpus;
  std::size_t bytes = 0;
  while (bytes < 200000) {
    std::string sentence;
    int length = 5 + static_cast<int>(rng() % 15);
    for (int w = 0; w < length; ++w) {
      if (w > 0) {
        sentence += ' ';
      }
      if (rng() % 7 == 0) {
        sentence += extras[rng() % extras.size()];
        continue;
      }
      int parts = 1 + static_cast<int>(rng() % 3);
      for (int p = 0; p < parts; ++p) {
        sentence += syllables[rng() % syllables.size()];
      }
    }
    sentence += rng() % 4 == 0 ? ".\n\n" : ". ";
    bytes += sentence.size();
    corpus.push_back(std::move(sentence));
  }
  return corpus;
}

// Hand-picked edge cases plus random mixes of fragments: ASCII, punctuation,
// digits, whitespace runs, newlines, emoji, CJK, accents, special tokens.
std::vector<std::string> make_probe_strings() {
  std::vector<std::string> probes = {
      "",
      " ",
      "  ",
      "\n",
      "\n\n\n",
      "\t\t x",
      "Hello, world!",
      "hello world",
      " leading space",
      "trailing space ",
      "multiple   spaces   between",
      "tabs\tand\ttabs",
      "line one\nline two\r\nline three\r",
      "don't you'll we're they've I'm he'd it's",
      "DON'T YOU'LL WE'RE",
      "1234567890",
      "3.14159 2.71828 1e-10 0x1F",
      "2024-06-01T12:00:00Z",
      "x = f(y); if (a && b) { return c; }",
      "#include <vector>\nint main() { return 0; }",
      "über café naïve résumé Ångström",
      "Straße Æsir œuvre",
      "日本語のテキストです。",
      "中文文本，标点符号。",
      "한국어 텍스트",
      "Привет, мир!",
      "مرحبا بالعالم",
      "emoji 😀🎉👍🏽 family 👨‍👩‍👧‍👦 flag 🇯🇵",
      "math ∑∫√∞ ≤ ≥ ≠",
      "non\u00a0breaking\u00a0space",
      "ideographic\u3000space",
      "thin\u2009space and zero\u200bwidth",
      "<|endoftext|>",
      "<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n",
      "text<|endoftext|>more text",
      "<|im_start|><|im_end|>",
      "<|im_start |> not special",
      "<|endoftext",
      "   <|endoftext|>   ",
      "!!!???...,,,;;;",
      "a\u0301 combining accent",
      "\u00ff\u00fe bytes",
      "word\n\n\nword",
      "    indented code\n        more",
  };
  const std::vector<std::string> fragments = {"the",
                                              "The",
                                              " quick",
                                              "brown",
                                              "fox",
                                              "1",
                                              "22",
                                              "333",
                                              "4444",
                                              " ",
                                              "  ",
                                              "\t",
                                              "\n",
                                              "\r\n",
                                              "'s",
                                              "'ll",
                                              "!",
                                              "?",
                                              "(",
                                              ")",
                                              "{",
                                              "}",
                                              ";",
                                              "é",
                                              "ñ",
                                              "日本",
                                              "語",
                                              "😀",
                                              "🎉",
                                              "<|endoftext|>",
                                              "<|im_start|>",
                                              "<|im_end|>",
                                              "kaqu",
                                              "menthing",
                                              "Ωμέγα",
                                              "ст"};
  std::mt19937 rng(7);
  while (probes.size() < 300) {
    std::string probe;
    int parts = 1 + static_cast<int>(rng() % 10);
    for (int p = 0; p < parts; ++p) {
      probe += fragments[rng() % fragments.size()];
    }
    probes.push_back(probe);
  }
  return probes;
}

struct OracleResult {
  std::vector<std::vector<int>> ids;
  std::vector<std::string> decoded;
  std::vector<std::string> decoded_keep_special;
  json transformers; // transformers_ids, chat, chat_with_prompt when asked
};

// Runs tests/oracles/hf_tokenize.py on the tokenizer in `model_dir`.
OracleResult run_oracle(const fs::path& model_dir,
                        const std::vector<std::string>& texts,
                        const std::vector<std::vector<int>>& to_decode,
                        const std::vector<ChatMessage>& messages,
                        bool use_transformers) {
  mlxt::testing::TempDir work;
  json request = {{"texts", texts},
                  {"decode", to_decode},
                  {"messages", json::array()},
                  {"use_transformers", use_transformers}};
  for (const auto& m : messages) {
    request["messages"].push_back({{"role", m.role}, {"content", m.content}});
  }
  mlxt::testing::write_file(work / "request.json", request.dump());
  auto result = mlxt::testing::run_command(
      {mlxt::testing::reference_python(),
       (mlxt::testing::source_dir() / "tests/oracles/hf_tokenize.py").string(),
       model_dir.string(),
       (work / "request.json").string(),
       (work / "output.json").string()});
  if (result.exit_code != 0) {
    ADD_FAILURE() << "oracle failed (" << result.exit_code << "):\n"
                  << result.output;
    return {};
  }
  json out = json::parse(mlxt::testing::read_file(work / "output.json"));
  return {out["ids"].get<std::vector<std::vector<int>>>(),
          out["decoded"].get<std::vector<std::string>>(),
          out["decoded_keep_special"].get<std::vector<std::string>>(),
          out};
}

// Our ids for every probe, and decode inputs: the full ids and the ids less
// their last token (which may cut a UTF-8 character in half).
void expect_parity(const Tokenizer& tokenizer,
                   const fs::path& model_dir,
                   const std::vector<std::string>& probes) {
  std::vector<std::vector<int>> ours;
  std::vector<std::vector<int>> to_decode;
  for (const auto& probe : probes) {
    ours.push_back(tokenizer.encode(probe));
    to_decode.push_back(ours.back());
    if (!ours.back().empty()) {
      to_decode.emplace_back(ours.back().begin(), ours.back().end() - 1);
    }
  }
  auto reference = run_oracle(model_dir, probes, to_decode, {}, false);
  ASSERT_EQ(reference.ids.size(), probes.size());
  int mismatches = 0;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    EXPECT_EQ(ours[i], reference.ids[i])
        << "probe " << i << ": " << json(probes[i]).dump();
    mismatches += ours[i] != reference.ids[i];
  }
  for (std::size_t i = 0; i < to_decode.size(); ++i) {
    EXPECT_EQ(tokenizer.decode(to_decode[i], true), reference.decoded[i])
        << "decode " << i << ": " << json(to_decode[i]).dump();
    EXPECT_EQ(tokenizer.decode(to_decode[i], false),
              reference.decoded_keep_special[i])
        << "decode " << i << ": " << json(to_decode[i]).dump();
  }
  EXPECT_EQ(mismatches, 0) << "of " << probes.size() << " probes";
}

BpeTrainOptions training_options() {
  BpeTrainOptions options;
  options.vocab_size = 1500;
  options.special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  return options;
}

// The trained tokenizer, written to `dir`; training is timed.
std::pair<json, json> train_into(const fs::path& dir) {
  auto corpus = make_training_corpus();
  auto start = std::chrono::steady_clock::now();
  auto files =
      mlxt::tokenizer::train_byte_level_bpe(corpus, training_options());
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::cout << "trained " << files.first["model"]["merges"].size()
            << " merges in " << seconds << " s\n";
  mlxt::testing::write_file(dir / "tokenizer.json", files.first.dump(2));
  mlxt::testing::write_file(dir / "tokenizer_config.json",
                            files.second.dump(2));
  return files;
}

#define SKIP_WITHOUT_REFERENCE_PYTHON()                                        \
  if (!mlxt::testing::have_reference_python()) {                               \
    GTEST_SKIP() << "no reference python at "                                  \
                 << mlxt::testing::reference_python()                          \
                 << " (run scripts/setup to create the venv)";                 \
  }

} // namespace

TEST(TokenizerParity, TrainedTokenizerMatchesHfTokenizers) {
  SKIP_WITHOUT_REFERENCE_PYTHON();
  mlxt::testing::TempDir dir;
  train_into(dir.path());
  auto tokenizer = Tokenizer::load(dir.path());
  expect_parity(tokenizer, dir.path(), make_probe_strings());
}

TEST(TokenizerParity, TransformersLoadsTheFolderAndRendersChatMl) {
  SKIP_WITHOUT_REFERENCE_PYTHON();
  mlxt::testing::TempDir dir;
  train_into(dir.path());
  auto tokenizer = Tokenizer::load(dir.path());
  std::vector<ChatMessage> messages = {
      {"system", "You are terse."},
      {"user", "What is 2+2?\nAnswer briefly."},
      {"assistant", "4."},
      {"user", "日本語で？ 😀"}};
  auto probes = make_probe_strings();
  probes.resize(60);
  auto reference = run_oracle(dir.path(), probes, {}, messages, true);
  ASSERT_TRUE(reference.transformers.contains("chat"));
  EXPECT_EQ(tokenizer.apply_chat_template(messages, false),
            reference.transformers["chat"].get<std::string>());
  EXPECT_EQ(tokenizer.apply_chat_template(messages, true),
            reference.transformers["chat_with_prompt"].get<std::string>());
  auto transformers_ids = reference.transformers["transformers_ids"]
                              .get<std::vector<std::vector<int>>>();
  for (std::size_t i = 0; i < probes.size(); ++i) {
    EXPECT_EQ(tokenizer.encode(probes[i]), transformers_ids[i])
        << "probe " << i << ": " << json(probes[i]).dump();
  }
}

TEST(TokenizerParity, PrefixSpaceAndSplitVariantsMatchHf) {
  SKIP_WITHOUT_REFERENCE_PYTHON();
  mlxt::testing::TempDir trained;
  auto [tokenizer_json, config] = train_into(trained.path());
  auto probes = make_probe_strings();

  // ByteLevel with add_prefix_space (applied to every piece, as HF does).
  json prefix_space = tokenizer_json;
  prefix_space["pre_tokenizer"]["add_prefix_space"] = true;
  // Llama 3 / Qwen2 style: Split(regex, Isolated), then ByteLevel without
  // its own regex.
  json split = tokenizer_json;
  split["pre_tokenizer"] = {{"type", "Sequence"},
                            {"pretokenizers",
                             {{{"type", "Split"},
                               {"pattern", {{"Regex", kLlama3Pattern}}},
                               {"behavior", "Isolated"},
                               {"invert", false}},
                              {{"type", "ByteLevel"},
                               {"add_prefix_space", false},
                               {"trim_offsets", true},
                               {"use_regex", false}}}}};
  for (const auto& [name, variant] :
       {std::pair{"prefix_space", prefix_space}, std::pair{"split", split}}) {
    SCOPED_TRACE(name);
    mlxt::testing::TempDir dir;
    mlxt::testing::write_file(dir / "tokenizer.json", variant.dump());
    mlxt::testing::write_file(dir / "tokenizer_config.json", config.dump());
    expect_parity(Tokenizer::load(dir.path()), dir.path(), probes);
  }
}

TEST(TokenizerParity, Gpt2TokenizerMatchesHf) {
  SKIP_WITHOUT_REFERENCE_PYTHON();
  fs::path gpt2 =
      mlxt::testing::source_dir() / "../shared/fixtures/tokenizers/gpt2-hf";
  if (!fs::exists(gpt2 / "tokenizer.json")) {
    GTEST_SKIP() << "no GPT-2 fixture at " << gpt2.string();
  }
  auto tokenizer = Tokenizer::load(gpt2);
  EXPECT_EQ(tokenizer.vocab_size(), 50257);
  EXPECT_EQ(tokenizer.eos_id(), 50256);
  expect_parity(tokenizer, gpt2, make_probe_strings());
}

TEST(TokenizerParity, Phi2AddedWhitespaceTokensMatchHf) {
  SKIP_WITHOUT_REFERENCE_PYTHON();
  // Phi-2 adds non-special tokens made of spaces and tabs, matched in the
  // raw text before the GPT-2 pre-tokenizer.
  fs::path phi2 =
      mlxt::testing::source_dir() / "../shared/fixtures/tokenizers/ortx-phi-2";
  if (!fs::exists(phi2 / "tokenizer.json")) {
    GTEST_SKIP() << "no Phi-2 fixture at " << phi2.string();
  }
  auto probes = make_probe_strings();
  probes.push_back("def f():\n        return  1\t\t\tx");
  probes.push_back(std::string(40, ' ') + "deep" + std::string(7, '\t'));
  expect_parity(Tokenizer::load(phi2), phi2, probes);
}

TEST(TokenizerParity, Qwen25VocabWithSplitPreTokenizerMatchesHf) {
  SKIP_WITHOUT_REFERENCE_PYTHON();
  fs::path qwen = mlxt::testing::source_dir() /
                  "../shared/fixtures/tokenizers/qwen2.5-vocab-merges";
  if (!fs::exists(qwen / "vocab.json")) {
    GTEST_SKIP() << "no Qwen2.5 fixture at " << qwen.string();
  }
  // Qwen2.5's own tokenizer.json, rebuilt from vocab.json + merges.txt
  // without its NFC normalizer (not supported yet): a 151k vocabulary on
  // the Split + ByteLevel path.
  json config =
      json::parse(mlxt::testing::read_file(qwen / "tokenizer_config.json"));
  json merges = json::array();
  std::istringstream lines(mlxt::testing::read_file(qwen / "merges.txt"));
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && !line.starts_with("#version")) {
      merges.push_back(line);
    }
  }
  json added_tokens = json::array();
  for (const auto& [id, token] : config["added_tokens_decoder"].items()) {
    json entry = token;
    entry["id"] = std::stoi(id);
    added_tokens.push_back(entry);
  }
  json byte_level = {{"type", "ByteLevel"},
                     {"add_prefix_space", false},
                     {"trim_offsets", false},
                     {"use_regex", false}};
  json tokenizer_json = {
      {"version", "1.0"},
      {"added_tokens", added_tokens},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern",
            {{"Regex",
              R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
           {"behavior", "Isolated"},
           {"invert", false}},
          byte_level}}}},
      {"post_processor", byte_level},
      {"decoder", byte_level},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"vocab", json::parse(mlxt::testing::read_file(qwen / "vocab.json"))},
        {"merges", merges}}}};
  mlxt::testing::TempDir dir;
  mlxt::testing::write_file(dir / "tokenizer.json", tokenizer_json.dump());
  mlxt::testing::write_file(dir / "tokenizer_config.json", config.dump());
  auto tokenizer = Tokenizer::load(dir.path());
  EXPECT_EQ(tokenizer.eos_id(), tokenizer.token_to_id("<|im_end|>"));
  EXPECT_TRUE(tokenizer.has_chat_template()); // Qwen's own template
  expect_parity(tokenizer, dir.path(), make_probe_strings());
}

TEST(TokenizerParity, UnsupportedFixturesFailNamingTheKey) {
  fs::path fixtures =
      mlxt::testing::source_dir() / "../shared/fixtures/tokenizers";
  if (!fs::exists(fixtures / "llama2-hf/tokenizer.json") ||
      !fs::exists(fixtures / "gpt-neox-20b-pythia/tokenizer.json")) {
    GTEST_SKIP() << "no Llama 2 / GPT-NeoX fixtures under "
                 << fixtures.string();
  }
  // SentencePiece-style BPE (Prepend/Replace normalizer, byte_fallback).
  EXPECT_MLXT_ERROR(
      Tokenizer::load(fixtures / "llama2-hf"),
      unsupported,
      "llama2-hf/tokenizer.json: normalizer: normalizer \"Sequence\"");
  // GPT-NeoX: byte-level BPE, but with an NFC normalizer.
  EXPECT_MLXT_ERROR(Tokenizer::load(fixtures / "gpt-neox-20b-pythia"),
                    unsupported,
                    "normalizer \"NFC\" is not supported");
}
