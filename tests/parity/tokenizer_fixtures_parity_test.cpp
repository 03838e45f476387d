// Parity of mlxt's tokenizer with Hugging Face `tokenizers` (and the
// sentencepiece library for tokenizer.model files) on every real tokenizer
// under ../shared/fixtures/tokenizers, and on the small tokenizers in
// tests/fuzz/tokenizer_seeds (Metaspace "first", Digits, Punctuation, NFKC,
// Lowercase, Strip, Split): identical ids, with and without
// special tokens, and identical decoded text, on over 10,000 strings (the
// fixture datasets' texts plus seeded random Unicode). Qwen2.5, GPT-2 and
// Llama 3 tokenizer.json files are rebuilt from their parts by
// tests/oracles/tokenizer_from_parts.py, as the fixtures' README describes.
#include <algorithm>
#include <random>
#include <set>

#include "mlxt/tokenizer/tokenizer.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using mlxt::tokenizer::Tokenizer;
using nlohmann::json;

fs::path fixtures_dir() {
  return mlxt::testing::source_dir() / "../shared/fixtures";
}

// Every string value (1..4000 bytes) in a JSON document, in order.
void collect_strings(const json& value, std::vector<std::string>& out) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (!text.empty() && text.size() <= 4000) {
      out.push_back(text);
    }
  } else if (value.is_structured()) {
    for (const auto& item : value) {
      collect_strings(item, out);
    }
  }
}

// Up to `per_file` distinct texts from each .json / .jsonl dataset file.
std::vector<std::string> dataset_texts(std::size_t per_file) {
  std::vector<fs::path> files;
  if (!fs::exists(fixtures_dir() / "datasets")) {
    return {};
  }
  for (const auto& entry :
       fs::recursive_directory_iterator(fixtures_dir() / "datasets")) {
    auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".json" || ext == ".jsonl")) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> texts;
  std::set<std::string> seen;
  for (const auto& file : files) {
    std::vector<std::string> strings;
    std::string contents = mlxt::testing::read_file(file);
    if (file.extension() == ".json") {
      collect_strings(json::parse(contents), strings);
    } else {
      std::istringstream lines(contents);
      for (std::string line; std::getline(lines, line);) {
        if (!line.empty()) {
          collect_strings(json::parse(line), strings);
        }
      }
    }
    std::size_t taken = 0;
    for (auto& text : strings) {
      if (taken == per_file) {
        break;
      }
      if (seen.insert(text).second) {
        texts.push_back(std::move(text));
        ++taken;
      }
    }
  }
  return texts;
}

std::string utf8(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// Seeded random strings mixing scripts, emoji (with ZWJ, skin tones and
// flags), combining marks, compatibility characters (NFKC changes them),
// whitespace runs of every White_Space character, digits in several
// scripts, contractions, and special-token text whole and broken.
std::vector<std::string> random_texts(std::size_t count) {
  // Ranges assigned since Unicode 9 or earlier, so that the Unicode
  // versions of HF's and our libraries agree on them.
  const std::vector<std::pair<char32_t, char32_t>> ranges = {
      {0x21, 0x7E},       {0xA1, 0xFF},       {0x100, 0x17F},
      {0x391, 0x3C9},     {0x410, 0x44F},     {0x621, 0x64A},
      {0x905, 0x939},     {0x3041, 0x3096},   {0x30A1, 0x30FA},
      {0x4E00, 0x9FA5},   {0xAC00, 0xD7A3},   {0x1100, 0x1112},
      {0x1161, 0x1175},   {0x300, 0x36F},     {0x1F300, 0x1F64F},
      {0x1F680, 0x1F6C5}, {0x1F3FB, 0x1F3FF}, {0x1F1E6, 0x1F1FF},
      {0xFF01, 0xFF5E},   {0xFB00, 0xFB06},   {0x2070, 0x2079},
      {0x2160, 0x2182},   {0x660, 0x669},     {0x2460, 0x24FF}};
  const std::vector<std::string> whitespace = {
      " ",      "  ",     "\t",     "\n",     "\r\n",   "\r",     "\v",
      "\f",     "\u00a0", "\u1680", "\u2000", "\u2003", "\u200a", "\u2028",
      "\u2029", "\u202f", "\u205f", "\u3000", "\u0085", "\u200b"};
  const std::vector<std::string> fragments = {"Hello",
                                              " world",
                                              "The",
                                              "don't",
                                              "I'M",
                                              "we'll",
                                              "it's",
                                              "123",
                                              "4567890",
                                              "3.14",
                                              "e\u0301",
                                              "\u00e9",
                                              "a\u0308",
                                              "\u1112\u1161",
                                              "ﬁ",
                                              "²",
                                              "Ａ",
                                              "Ⅻ",
                                              "İstanbul",
                                              "ΣΑΣ",
                                              "👨‍👩‍👧‍👦",
                                              "👍🏽",
                                              "🇯🇵",
                                              "\u2764\ufe0f",
                                              "<s>",
                                              "</s>",
                                              "<unk>",
                                              "<|endoftext|>",
                                              "<|im_start|>",
                                              "<|im_end|>",
                                              "<|begin_of_text|>",
                                              "<|eot_id|>",
                                              "<|user|>",
                                              "<|end|>",
                                              "<|assistant|>",
                                              "<|system|>",
                                              "[INST]",
                                              "[/INST]",
                                              "<0x41>",
                                              "▁",
                                              "▁▁x",
                                              "<|endof",
                                              "<|im_start |>",
                                              "<s",
                                              "s>",
                                              "def f(x):\n    return x",
                                              "{\"a\": [1, 2]}",
                                              "C++",
                                              "naïve café"};
  std::mt19937 rng(20261125);
  auto pick = [&](std::size_t n) {
    return static_cast<std::size_t>(rng() % n);
  };
  std::vector<std::string> texts;
  while (texts.size() < count) {
    std::string text;
    std::size_t parts = 1 + pick(16);
    for (std::size_t p = 0; p < parts; ++p) {
      switch (pick(4)) {
      case 0: {
        std::size_t n = 1 + pick(6);
        for (std::size_t k = 0; k < n; ++k) {
          auto [lo, hi] = ranges[pick(ranges.size())];
          text += utf8(lo + static_cast<char32_t>(pick(hi - lo + 1)));
        }
        break;
      }
      case 1: {
        std::size_t n = 1 + pick(4);
        for (std::size_t k = 0; k < n; ++k) {
          text += whitespace[pick(whitespace.size())];
        }
        break;
      }
      default:
        text += fragments[pick(fragments.size())];
      }
    }
    texts.push_back(std::move(text));
  }
  return texts;
}

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> texts = [] {
    auto texts = dataset_texts(700);
    auto random =
        random_texts(10500 - std::min<std::size_t>(texts.size(), 6500));
    texts.insert(texts.end(), random.begin(), random.end());
    return texts;
  }();
  return texts;
}

// Runs tests/oracles/hf_tokenize.py once on all texts.
json run_oracle(const fs::path& oracle_dir,
                const std::vector<std::string>& texts,
                const std::vector<std::vector<int>>& to_decode,
                const std::string& sentencepiece_model) {
  mlxt::testing::TempDir work;
  json request = {{"texts", texts},
                  {"decode", to_decode},
                  {"sentencepiece_model", sentencepiece_model}};
  mlxt::testing::write_file(work / "request.json", request.dump());
  auto result = mlxt::testing::run_command(
      {mlxt::testing::reference_python(),
       (mlxt::testing::source_dir() / "tests/oracles/hf_tokenize.py").string(),
       oracle_dir.string(),
       (work / "request.json").string(),
       (work / "output.json").string()});
  if (result.exit_code != 0) {
    ADD_FAILURE() << "oracle failed (" << result.exit_code << "):\n"
                  << result.output;
    return json();
  }
  return json::parse(mlxt::testing::read_file(work / "output.json"));
}

// Compares `tokenizer` with the reference on the whole corpus. `framing`:
// whether the reference's add_special_tokens=True ids are comparable (not
// when tokenizer_config.json overrides the post-processor, which only
// transformers applies).
void expect_corpus_parity(const Tokenizer& tokenizer,
                          const fs::path& oracle_dir,
                          bool framing,
                          const std::string& sentencepiece_model = "") {
  const auto& texts = corpus();
  ASSERT_GE(texts.size(), 10000u);
  auto plain = tokenizer.encode_batch(texts, false);
  auto framed = tokenizer.encode_batch(texts, true);
  // Decode the ids of every text, and of the first 2000 less their last
  // token (which may cut a character in half).
  std::vector<std::vector<int>> to_decode = plain;
  for (std::size_t i = 0; i < 2000; ++i) {
    if (!plain[i].empty()) {
      to_decode.emplace_back(plain[i].begin(), plain[i].end() - 1);
    }
  }
  json reference =
      run_oracle(oracle_dir, texts, to_decode, sentencepiece_model);
  ASSERT_TRUE(reference.is_object());
  auto ref_plain = reference["ids_plain"].get<std::vector<std::vector<int>>>();
  auto ref_framed = reference["ids"].get<std::vector<std::vector<int>>>();
  auto decoded = reference["decoded"].get<std::vector<std::string>>();
  ASSERT_EQ(ref_plain.size(), texts.size());

  int mismatches = 0;
  int framed_mismatches = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (plain[i] != ref_plain[i] && ++mismatches <= 5) {
      ADD_FAILURE() << "ids differ for text " << i << ": "
                    << json(texts[i]).dump() << "\n ours " << json(plain[i])
                    << "\n HF   " << json(ref_plain[i]);
    }
    framed_mismatches += framing && framed[i] != ref_framed[i];
  }
  EXPECT_EQ(mismatches, 0) << "of " << texts.size() << " texts";
  EXPECT_EQ(framed_mismatches, 0) << "with special tokens added";

  int decode_mismatches = 0;
  int round_trips = 0;
  for (std::size_t i = 0; i < to_decode.size(); ++i) {
    std::string ours = tokenizer.decode(to_decode[i], true);
    if (ours != decoded[i] && ++decode_mismatches <= 5) {
      ADD_FAILURE() << "decode differs for " << json(to_decode[i]).dump()
                    << "\n ours " << json(ours).dump() << "\n ref  "
                    << json(decoded[i]).dump();
    }
    // decode(encode(x)) == x wherever the reference round-trips.
    if (i < texts.size() && decoded[i] == texts[i]) {
      EXPECT_EQ(ours, texts[i]) << "round trip of text " << i;
      ++round_trips;
    }
  }
  EXPECT_EQ(decode_mismatches, 0);
  if (reference.contains("decoded_keep_special")) {
    auto keep =
        reference["decoded_keep_special"].get<std::vector<std::string>>();
    int keep_mismatches = 0;
    for (std::size_t i = 0; i < to_decode.size(); ++i) {
      keep_mismatches += tokenizer.decode(to_decode[i], false) != keep[i];
    }
    EXPECT_EQ(keep_mismatches, 0) << "decoding with special tokens kept";
  }
  std::cout << texts.size() << " texts, " << round_trips
            << " round-trip in the reference and here\n";
}

// Whether tokenizer_config.json in `dir` sets add_bos_token/add_eos_token.
bool config_overrides_framing(const fs::path& dir) {
  fs::path config = dir / "tokenizer_config.json";
  if (!fs::exists(config)) {
    return false;
  }
  json j = json::parse(mlxt::testing::read_file(config));
  return j.contains("add_bos_token") || j.contains("add_eos_token");
}

// Writes a tokenizer.json rebuilt from parts into `out`.
void rebuild(const std::vector<std::string>& args) {
  std::vector<std::string> command = {
      mlxt::testing::reference_python(),
      (mlxt::testing::source_dir() / "tests/oracles/tokenizer_from_parts.py")
          .string()};
  command.insert(command.end(), args.begin(), args.end());
  auto result = mlxt::testing::run_command(command);
  ASSERT_EQ(result.exit_code, 0) << result.output;
}

#define SKIP_WITHOUT(required)                                                 \
  if (!mlxt::testing::have_reference_python()) {                               \
    GTEST_SKIP() << "no reference python at "                                  \
                 << mlxt::testing::reference_python()                          \
                 << " (run scripts/setup --test to create the venv)";          \
  }                                                                            \
  if (!fs::exists(required)) {                                                 \
    GTEST_SKIP() << "no fixture at "                                           \
                 << std::filesystem::path(required).string();                  \
  }

void expect_tokenizer_json_parity(const std::string& name) {
  fs::path dir = fixtures_dir() / "tokenizers" / name;
  SKIP_WITHOUT(dir / "tokenizer.json");
  expect_corpus_parity(
      Tokenizer::load(dir), dir, !config_overrides_framing(dir));
}

} // namespace

TEST(TokenizerFixtureParity, Gpt2) {
  expect_tokenizer_json_parity("gpt2-hf");
}
TEST(TokenizerFixtureParity, GptNeoxNfc) {
  expect_tokenizer_json_parity("gpt-neox-20b-pythia");
}
TEST(TokenizerFixtureParity, Phi2) {
  expect_tokenizer_json_parity("ortx-phi-2");
}
TEST(TokenizerFixtureParity, Llama2) {
  expect_tokenizer_json_parity("llama2-hf");
}
TEST(TokenizerFixtureParity, Mistral) {
  expect_tokenizer_json_parity("mistral-hf");
}
TEST(TokenizerFixtureParity, Phi3Mini) {
  expect_tokenizer_json_parity("ortx-phi-3-mini");
}

// The fixture's "merges": {} is rejected by HF; so must it be here, naming
// the key. With the merges written as a list, its added tokens are
// compared (HF gives them new ids past its four-token vocabulary). Its
// tokenizer_config.json names tokens that vocabulary lacks, so it stays out.
TEST(TokenizerFixtureParity, AddedTokensFixture) {
  fs::path src = fixtures_dir() / "tokenizers/ortx-added-tokens";
  SKIP_WITHOUT(src / "tokenizer.json");
  EXPECT_MLXT_ERROR(Tokenizer::load(src),
                    invalid_model,
                    "ortx-added-tokens/tokenizer.json: model.merges: "
                    "expected an array");
  json fixed = json::parse(mlxt::testing::read_file(src / "tokenizer.json"));
  fixed["model"]["merges"] = json::array();
  mlxt::testing::TempDir dir;
  mlxt::testing::write_file(dir / "tokenizer.json", fixed.dump());
  expect_corpus_parity(Tokenizer::load(dir.path()), dir.path(), true);
}

TEST(TokenizerFixtureParity, FuzzSeedTokenizers) {
  SKIP_WITHOUT(mlxt::testing::source_dir() / "tests/fuzz/tokenizer_seeds");
  for (const auto& entry : fs::directory_iterator(
           mlxt::testing::source_dir() / "tests/fuzz/tokenizer_seeds")) {
    SCOPED_TRACE(entry.path().filename().string());
    mlxt::testing::TempDir dir;
    fs::copy_file(entry.path(), dir / "tokenizer.json");
    expect_corpus_parity(Tokenizer::load(dir.path()), dir.path(), true);
  }
}

TEST(TokenizerFixtureParity, Gpt2FromVocabAndMerges) {
  fs::path src = fixtures_dir() / "tokenizers/gpt2-vocab-merges";
  SKIP_WITHOUT(src / "merges.txt");
  mlxt::testing::TempDir dir;
  rebuild({"gpt2", src.string(), dir.path().string()});
  expect_corpus_parity(Tokenizer::load(dir.path()), dir.path(), true);
}

TEST(TokenizerFixtureParity, Qwen25FromVocabAndMerges) {
  fs::path src = fixtures_dir() / "tokenizers/qwen2.5-vocab-merges";
  SKIP_WITHOUT(src / "merges.txt");
  mlxt::testing::TempDir dir;
  rebuild({"qwen2", src.string(), dir.path().string()});
  auto tokenizer = Tokenizer::load(dir.path());
  EXPECT_EQ(tokenizer.eos_id(), tokenizer.token_to_id("<|im_end|>"));
  expect_corpus_parity(tokenizer, dir.path(), true);
}

// Our own reading of the tiktoken rank file against HF on the tokenizer.json
// transformers converts from it.
TEST(TokenizerFixtureParity, Llama3Tiktoken) {
  fs::path model =
      fixtures_dir() / "tokenizers/llama3-tiktoken/tokenizer.model";
  fs::path config =
      fixtures_dir() / "tokenizers/llama3-hf-config/tokenizer_config.json";
  SKIP_WITHOUT(model);
  mlxt::testing::TempDir converted;
  rebuild(
      {"tiktoken", model.string(), config.string(), converted.path().string()});
  mlxt::testing::TempDir native;
  fs::copy_file(model, native / "tokenizer.model");
  fs::copy_file(config, native / "tokenizer_config.json");
  auto tokenizer = Tokenizer::load(native.path());
  EXPECT_EQ(tokenizer.vocab_size(), 128256);
  EXPECT_EQ(tokenizer.bos_id(), 128000);
  EXPECT_EQ(tokenizer.eos_id(), 128009);
  expect_corpus_parity(tokenizer, converted.path(), true);
}

TEST(TokenizerFixtureParity, Llama2SentencePieceModel) {
  fs::path model =
      fixtures_dir() / "tokenizers/llama2-sentencepiece/tokenizer.model";
  SKIP_WITHOUT(model);
  mlxt::testing::TempDir dir;
  fs::copy_file(model, dir / "tokenizer.model");
  expect_corpus_parity(
      Tokenizer::load(dir.path()), dir.path(), true, model.string());
}

TEST(TokenizerFixtureParity, MistralSentencePieceModels) {
  fs::path src = fixtures_dir() / "tokenizers/mistral-sentencepiece";
  SKIP_WITHOUT(src / "tokenizer.model.v1");
  for (const char* name : {"tokenizer.model.v1",
                           "mistral_instruct_tokenizer_240216.model.v2",
                           "mistral_instruct_tokenizer_240323.model.v3",
                           "mistral_instruct_tokenizer_241114.model.v7"}) {
    SCOPED_TRACE(name);
    mlxt::testing::TempDir dir;
    fs::copy_file(src / name, dir / "tokenizer.model");
    expect_corpus_parity(
        Tokenizer::load(dir.path()), dir.path(), true, (src / name).string());
  }
}
