// SmolLM2-135M-Instruct (Q4_1 GGUF) imported by mlxt against an oracle that
// shares no code with MLX's GGUF reader: llama.cpp's `gguf` package
// dequantizes the file and mlx-lm runs it in llama.cpp's row order and
// rotary convention (tests/oracles/gguf_reference.py). Logits (fp32) within
// 1e-3, identical token ids on fixture texts, the same 32-token greedy
// continuations of 5 prompts. Skips when the model is not in the cache
// (scripts/fetch-smollm2) or the test venv is missing.
#include <fstream>

#include <nlohmann/json.hpp>

#include "mlxt/core/safetensors.h"
#include "mlxt/generate/generate.h"
#include "mlxt/gguf/import.h"
#include "mlxt/models/transformer.h"
#include "mlxt/tokenizer/tokenizer.h"
#include "support/test_support.h"

namespace {

using namespace mlxt;
namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string>& prompts() {
  static const std::vector<std::string> p = {
      "The capital of France is",
      "def fibonacci(n):",
      "Once upon a time, in a small village,",
      "The three primary colors are",
      "Water boils at 100 degrees Celsius, which is",
  };
  return p;
}

// Texts for tokenizer parity: the prompts, edge cases of the pre-tokenizer
// (digits, whitespace runs, contractions, non-Latin text, special tokens)
// and paragraphs of a fixture corpus when ../shared/fixtures is there.
std::vector<std::string> tokenizer_texts() {
  std::vector<std::string> texts = prompts();
  texts.insert(texts.end(),
               {"In 2024, 1234567 people paid $3.50 each.",
                "  leading and   inner  spaces\n\n\ttabs\r\nand newlines  ",
                "It's, they're, we'll, I'd, you've, she's.",
                "Grüße aus München — naïve café, 東京, Привет мир!",
                "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                "<|im_start|>assistant\n",
                "x = [i**2 for i in range(10)]  # squares"});
  const fs::path corpus = mlxt::testing::source_dir().parent_path() /
                          "shared/fixtures/corpora/the-verdict/the-verdict.txt";
  if (fs::exists(corpus)) {
    std::string text = mlxt::testing::read_file(corpus).substr(0, 6000);
    size_t start = 0;
    for (size_t end; (end = text.find("\n\n", start)) != std::string::npos;
         start = end + 2) {
      if (end > start) {
        texts.push_back(text.substr(start, end - start));
      }
    }
  }
  return texts;
}

class SmolLM2Parity : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    file_ = mlxt::testing::smollm2_gguf();
    if (file_.empty() || !mlxt::testing::have_reference_python()) {
      return;
    }
    dir_ = new mlxt::testing::TempDir;
    model_ = new gguf::ImportedModel(gguf::import_gguf(file_));
    dense_ = new gguf::ImportedModel(
        gguf::import_gguf(file_, {.dequantize = true, .dtype = mx::float32}));
    tok_ = new tokenizer::Tokenizer(
        tokenizer::Tokenizer::from_json(model_->tokenizer.tokenizer,
                                        model_->tokenizer.tokenizer_config,
                                        file_.string()));
    // Two rows of equal length for the logits.
    std::vector<int> a = tok_->encode(prompts()[2], false);
    std::vector<int> b = tok_->encode(prompts()[4], false);
    const size_t n = std::min(a.size(), b.size());
    rows_ = {std::vector<int>(a.begin(), a.begin() + n),
             std::vector<int>(b.begin(), b.begin() + n)};
    json prompts_ids = json::array();
    for (const auto& p : prompts()) {
      prompts_ids.push_back(tok_->encode(p, false));
    }
    json request = {{"tokens", rows_},
                    {"prompts", prompts_ids},
                    {"max_tokens", 32},
                    {"texts", tokenizer_texts()}};
    mlxt::testing::write_file(dir_->path() / "request.json", request.dump());
    auto result = mlxt::testing::run_command(
        {mlxt::testing::reference_python(),
         (mlxt::testing::source_dir() / "tests/oracles/gguf_reference.py")
             .string(),
         file_.string(),
         (dir_->path() / "request.json").string(),
         dir_->path().string()});
    oracle_output_ = result.output;
    if (result.exit_code == 0) {
      oracle_ =
          json::parse(mlxt::testing::read_file(dir_->path() / "result.json"));
    }
  }

  static void TearDownTestSuite() {
    delete tok_;
    delete model_;
    delete dense_;
    delete dir_;
  }

  void SetUp() override {
    if (file_.empty()) {
      GTEST_SKIP() << "SmolLM2 GGUF not in the model cache; run "
                      "scripts/fetch-smollm2";
    }
    if (!mlxt::testing::have_reference_python()) {
      GTEST_SKIP() << "test venv missing; run scripts/setup --test";
    }
    ASSERT_FALSE(oracle_.is_null()) << oracle_output_;
  }

  // Max |ours - oracle| over the logits of rows_.
  static float logits_gap(const models::Model& m) {
    std::vector<int> flat;
    for (const auto& r : rows_) {
      flat.insert(flat.end(), r.begin(), r.end());
    }
    mx::array tokens(
        flat.begin(), {2, static_cast<int>(rows_[0].size())}, mx::int32);
    nn::ForwardContext ctx;
    mx::array ours = models::forward(m.args, m.weights, tokens, ctx);
    mx::array ref = param(
        load_safetensors_file(dir_->path() / "logits.safetensors"), "logits");
    const float gap = mx::max(mx::abs(mx::subtract(ours, ref))).item<float>();
    ::testing::Test::RecordProperty("max_abs_logit_gap", std::to_string(gap));
    return gap;
  }

  static inline fs::path file_;
  static inline mlxt::testing::TempDir* dir_ = nullptr;
  static inline gguf::ImportedModel* model_ = nullptr; // as stored
  static inline gguf::ImportedModel* dense_ = nullptr; // dequantized, fp32
  static inline tokenizer::Tokenizer* tok_ = nullptr;
  static inline std::vector<std::vector<int>> rows_;
  static inline json oracle_;
  static inline std::string oracle_output_;
};

TEST_F(SmolLM2Parity, ImportsTheDocumentedShape) {
  const auto& a = model_->model.args;
  EXPECT_EQ(a.num_hidden_layers, 30);
  EXPECT_EQ(a.hidden_size, 576);
  EXPECT_EQ(a.num_attention_heads, 9);
  EXPECT_EQ(a.num_key_value_heads, 3);
  EXPECT_EQ(a.vocab_size, 49152);
  EXPECT_TRUE(a.tie_word_embeddings);
  ASSERT_TRUE(a.quantization);
  EXPECT_EQ(a.quantization->group_size, 32);
  EXPECT_EQ(a.quantization->bits, 4);
  // llama.cpp keeps the token embedding at 8 bits (Q8_0).
  EXPECT_EQ(a.quantization->bits_for("model.embed_tokens"), 8);
}

TEST_F(SmolLM2Parity, QuantizedLogitsMatchTheOracle) {
  EXPECT_LT(logits_gap(model_->model), 1e-3f);
}

TEST_F(SmolLM2Parity, DequantizedLogitsMatchTheOracle) {
  EXPECT_FALSE(dense_->model.args.quantization);
  EXPECT_LT(logits_gap(dense_->model), 1e-3f);
}

TEST_F(SmolLM2Parity, TokenIdsMatchOnFixtureTexts) {
  const auto texts = tokenizer_texts();
  ASSERT_EQ(oracle_["encoded"].size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(tok_->encode(texts[i], false),
              oracle_["encoded"][i].get<std::vector<int>>())
        << texts[i];
  }
}

TEST_F(SmolLM2Parity, GreedyContinuationsMatchFor32Tokens) {
  for (size_t i = 0; i < prompts().size(); ++i) {
    std::vector<int> ours =
        generate::generate_tokens(model_->model.args,
                                  model_->model.weights,
                                  nn::ForwardContext{},
                                  tok_->encode(prompts()[i], false),
                                  {.max_tokens = 32});
    EXPECT_EQ(ours, oracle_["greedy"][i].get<std::vector<int>>())
        << prompts()[i] << "\nours: " << tok_->decode(ours);
  }
}

TEST_F(SmolLM2Parity, KnowsTheCapitalOfFrance) {
  std::vector<int> ids =
      generate::generate_tokens(model_->model.args,
                                model_->model.weights,
                                nn::ForwardContext{},
                                tok_->encode(prompts()[0], false),
                                {.max_tokens = 8});
  EXPECT_NE(tok_->decode(ids).find("Paris"), std::string::npos)
      << tok_->decode(ids);
}

} // namespace
