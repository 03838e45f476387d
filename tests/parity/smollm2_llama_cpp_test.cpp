// SmolLM2-135M-Instruct imported by mlxt against llama.cpp itself: the
// committed reference tests/fixtures/smollm2_llama_cpp/ was made by
// tests/oracles/smollm2_llama_cpp_reference.py with llama-cpp-python built
// from its sdist (version, GGUF SHA-256 and command inside), so this test
// needs neither llama.cpp nor Python at run time.
//  - logits at the last position of 5 prompts: llama.cpp on an F32 copy of
//    the GGUF (exact dequantized fp32) vs mlxt's quantized and dequantized
//    imports, max |d| < 1e-3; llama.cpp on the Q4_1 file itself (its CPU
//    kernels quantize activations to Q8 for Q4_1/Q8_0 dot products) within
//    1.5x llama.cpp's own Q4_1-vs-F32 gap;
//  - llama.cpp's token ids for the tokenizer texts (edge cases, special
//    tokens, public-domain corpus paragraphs) equal mlxt's;
//  - the 32-token greedy continuations of the 5 prompts equal llama.cpp's
//    on the F32 copy (mlxt's dequantized import, checked position by
//    position in one forward pass).
// Skips when the SmolLM2 GGUF is not in the model cache.
#include <nlohmann/json.hpp>

#include "mlxt/core/safetensors.h"
#include "mlxt/core/sha256.h"
#include "mlxt/gguf/import.h"
#include "mlxt/models/transformer.h"
#include "mlxt/tokenizer/tokenizer.h"
#include "support/test_support.h"

namespace {

using namespace mlxt;
namespace fs = std::filesystem;
using nlohmann::json;

constexpr float kF32Tolerance = 1e-3f;
// llama.cpp's logits on the Q4_1 file differ from its own exact F32 logits
// by its Q8 activation rounding (reference.json's
// "q4_1_vs_f32_max_abs_logit", 1.0 on these prompts); ours, an exact
// dequantized computation, may differ from them by that much, with a
// margin.
constexpr float kQ4_1Margin = 1.5f;

fs::path reference_dir() {
  return mlxt::testing::source_dir() / "tests/fixtures/smollm2_llama_cpp";
}

// What one import of the model computes on the reference's prompts: the
// logits at each prompt's last position and, when asked, its greedy choice
// after every prefix of prompt + llama.cpp's 32-token continuation (one
// causal forward per prompt, not 32).
struct Outputs {
  mx::array last_prompt_logits = mx::array(0.0f); // (5, V) float32
  std::vector<std::vector<int>> greedy;           // per prompt, 32 ids
};

class SmolLM2LlamaCpp : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    file_ = mlxt::testing::smollm2_gguf();
    if (file_.empty()) {
      return;
    }
    ref_ = json::parse(
        mlxt::testing::read_file(reference_dir() / "reference.json"));
    logits_ = new Params(
        load_safetensors_file(reference_dir() / "logits.safetensors"));
    gguf::ImportedModel quantized = gguf::import_gguf(file_);
    tok_ = new tokenizer::Tokenizer(
        tokenizer::Tokenizer::from_json(quantized.tokenizer.tokenizer,
                                        quantized.tokenizer.tokenizer_config,
                                        file_.string()));
    // MLX's CPU quantized matmul is several times slower than fp32 BLAS, so
    // the quantized import runs the prompts only (gguf_parity_test decodes
    // it greedily against mlx-lm).
    quantized_ = new Outputs(run(quantized.model, /*continuations=*/false));
    dense_ = new Outputs(
        run(gguf::import_gguf(file_, {.dequantize = true, .dtype = mx::float32})
                .model,
            /*continuations=*/true));
  }

  static void TearDownTestSuite() {
    delete tok_;
    delete dense_;
    delete quantized_;
    delete logits_;
  }

  void SetUp() override {
    if (file_.empty()) {
      GTEST_SKIP() << "SmolLM2 GGUF not in the model cache; run "
                      "scripts/fetch-smollm2";
    }
  }

  // Runs `m` on each prompt, followed by llama.cpp's continuation when
  // `continuations`. Greedy decoding gives llama.cpp's continuation exactly
  // when, at every position, the argmax after the prefix is llama.cpp's
  // next token.
  static Outputs run(const models::Model& m, bool continuations) {
    Outputs out;
    std::vector<mx::array> rows;
    for (size_t i = 0; i < ref_["prompt_ids"].size(); ++i) {
      auto ids = ref_["prompt_ids"][i].get<std::vector<int>>();
      const int n = static_cast<int>(ids.size());
      const auto continuation = ref_["greedy_f32"][i].get<std::vector<int>>();
      if (continuations) {
        ids.insert(ids.end(), continuation.begin(), continuation.end() - 1);
      }
      const int total = static_cast<int>(ids.size());
      nn::ForwardContext ctx;
      mx::array logits = mx::astype(
          models::forward(m.args,
                          m.weights,
                          mx::array(ids.begin(), {1, total}, mx::int32),
                          ctx),
          mx::float32); // (1, total, V)
      rows.push_back(mx::reshape(
          mx::slice(logits, {0, n - 1, 0}, {1, n, m.args.vocab_size}),
          {m.args.vocab_size}));
      mx::array next = mx::astype(
          mx::argmax(
              mx::slice(logits, {0, n - 1, 0}, {1, total, m.args.vocab_size}),
              -1),
          mx::int32);
      mx::eval(next, rows.back());
      if (continuations) {
        out.greedy.emplace_back(next.data<int>(),
                                next.data<int>() + next.size());
      }
    }
    out.last_prompt_logits = mx::stack(rows);
    mx::eval(out.last_prompt_logits);
    return out;
  }

  static float gap(const Outputs& ours, const std::string& reference) {
    return mx::max(mx::abs(mx::subtract(ours.last_prompt_logits,
                                        param(*logits_, reference))))
        .item<float>();
  }

  static inline fs::path file_;
  static inline json ref_;
  static inline Params* logits_ = nullptr;
  static inline Outputs* quantized_ = nullptr; // the import as stored (Q4_1)
  static inline Outputs* dense_ = nullptr;     // dequantized, fp32
  static inline tokenizer::Tokenizer* tok_ = nullptr;
};

// One test: ctest runs each test in its own process, and the imports and
// forward passes above are the cost.
TEST_F(SmolLM2LlamaCpp, MatchesLlamaCpp) {
  {
    SCOPED_TRACE("reference was made from the cached file");
    EXPECT_EQ(sha256_file_hex(file_), ref_["gguf_sha256"].get<std::string>())
        << "the reference in " << reference_dir()
        << " is for another GGUF; rerun tests/oracles/"
           "smollm2_llama_cpp_reference.py";
  }

  {
    SCOPED_TRACE("token ids match llama.cpp");
    const auto& texts = ref_["texts"];
    ASSERT_EQ(texts.size(), ref_["text_ids"].size());
    ASSERT_GT(texts.size(), 100u);
    for (size_t i = 0; i < texts.size(); ++i) {
      const std::string text = texts[i];
      EXPECT_EQ(tok_->encode(text, false),
                ref_["text_ids"][i].get<std::vector<int>>())
          << "text " << i << ": " << text;
    }
    for (size_t i = 0; i < ref_["prompts"].size(); ++i) {
      EXPECT_EQ(tok_->encode(ref_["prompts"][i].get<std::string>(), false),
                ref_["prompt_ids"][i].get<std::vector<int>>());
    }
  }

  {
    SCOPED_TRACE("logits match llama.cpp on the F32 copy");
    const float quantized = gap(*quantized_, "f32");
    const float dequantized = gap(*dense_, "f32");
    RecordProperty("max_abs_logit_gap_quantized", std::to_string(quantized));
    RecordProperty("max_abs_logit_gap_dequantized",
                   std::to_string(dequantized));
    EXPECT_LT(quantized, kF32Tolerance);
    EXPECT_LT(dequantized, kF32Tolerance);
  }

  {
    SCOPED_TRACE(
        "logits match llama.cpp on the Q4_1 file within its Q8 rounding");
    const float quantized = gap(*quantized_, "q4_1");
    const float rounding = ref_["q4_1_vs_f32_max_abs_logit"].get<float>();
    RecordProperty("max_abs_logit_gap_q4_1", std::to_string(quantized));
    EXPECT_GT(rounding, 0.0f);
    EXPECT_LT(quantized, kQ4_1Margin * rounding);
  }

  {
    SCOPED_TRACE("greedy continuations match llama.cpp for 32 tokens");
    ASSERT_EQ(ref_["prompts"].size(), 5u);
    for (size_t i = 0; i < ref_["prompts"].size(); ++i) {
      const auto expected = ref_["greedy_f32"][i].get<std::vector<int>>();
      ASSERT_EQ(expected.size(), 32u);
      EXPECT_EQ(dense_->greedy[i], expected)
          << ref_["prompts"][i].get<std::string>()
          << "\nours: " << tok_->decode(dense_->greedy[i])
          << "\nllama.cpp: " << tok_->decode(expected);
    }
  }
}

} // namespace
