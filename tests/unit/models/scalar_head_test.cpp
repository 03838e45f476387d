// The scalar score head (models/scalar_head.h): where it reads, what it
// computes, how it is initialised and how a folder declares it.
#include <cmath>

#include "mlxt/models/init.h"
#include "mlxt/models/scalar_head.h"
#include "mlxt/models/transformer.h"
#include "support/test_support.h"

namespace {

using namespace mlxt;

TEST(ScalarHead, ScoresEveryTokenAndPicksEachRowsLastOne) {
  // hidden (2, 3, 2): row b, position t holds (b + t, 1).
  std::vector<float> h;
  for (int b = 0; b < 2; ++b) {
    for (int t = 0; t < 3; ++t) {
      h.insert(h.end(), {float(b + t), 1.0f});
    }
  }
  const mx::array hidden(h.begin(), {2, 3, 2}, mx::float32);
  const Params weights = {
      {models::kScoreWeight, mx::array({2.0f, -1.0f}, {1, 2})}};
  const mx::array tokens = models::score_tokens(weights, hidden);
  mx::eval(tokens);
  EXPECT_EQ(tokens.shape(), (mx::Shape{2, 3}));
  const float* s = tokens.data<float>();
  for (int b = 0; b < 2; ++b) {
    for (int t = 0; t < 3; ++t) {
      EXPECT_FLOAT_EQ(s[b * 3 + t], 2.0f * (b + t) - 1.0f);
    }
  }
  const mx::array at = models::score_at(
      weights, hidden, mx::array({2, 0}, {2}, mx::int32)); // (B,)
  mx::eval(at);
  EXPECT_EQ(at.shape(), (mx::Shape{2}));
  EXPECT_FLOAT_EQ(at.data<float>()[0], 3.0f); // row 0, position 2
  EXPECT_FLOAT_EQ(at.data<float>()[1], 1.0f); // row 1, position 0
}

TEST(ScalarHead, SequenceScoresReadTheDecoderAtTheLastToken) {
  models::Model m = models::init_model({.arch = "llama",
                                        .preset = "tiny",
                                        .vocab_size = 64,
                                        .seed = 3,
                                        .init_std = 0.2f});
  Params w = m.weights;
  w.insert_or_assign(models::kScoreWeight,
                     models::init_score_weight(m.args, 1));
  nn::ForwardContext ctx;
  // Right padding after the last token changes nothing before it.
  const mx::array short_row = mx::array({5, 9, 11}, {1, 3}, mx::int32);
  const mx::array padded = mx::array({5, 9, 11, 0, 0}, {1, 5}, mx::int32);
  const mx::array last = mx::array({2}, {1}, mx::int32);
  const float a =
      models::sequence_scores(m.args, w, short_row, last, ctx).item<float>();
  const float b =
      models::sequence_scores(m.args, w, padded, last, ctx).item<float>();
  EXPECT_NEAR(a, b, 1e-5);
  const mx::array all = models::score_tokens(
      w, models::forward_hidden(m.args, w, short_row, ctx));
  mx::eval(all);
  EXPECT_NEAR(all.data<float>()[2], a, 1e-6);
}

TEST(ScalarHead, InitialisedAsTransformersWithInitializerRange) {
  models::ModelArgs args;
  args.hidden_size = 4096;
  args.config = {{"initializer_range", 0.05}};
  const mx::array w = models::init_score_weight(args, 0);
  EXPECT_EQ(w.shape(), (mx::Shape{1, 4096}));
  EXPECT_EQ(w.dtype(), mx::float32);
  const float mean = mx::mean(w).item<float>();
  const float std = std::sqrt(mx::var(w).item<float>());
  EXPECT_NEAR(mean, 0.0f, 0.005f);
  EXPECT_NEAR(std, 0.05f, 0.003f);
  // Seeded: the same seed gives the same head.
  EXPECT_TRUE(
      mx::array_equal(w, models::init_score_weight(args, 0)).item<bool>());
  args.config = nlohmann::json::object(); // transformers' default 0.02
  EXPECT_NEAR(
      std::sqrt(mx::var(models::init_score_weight(args, 0)).item<float>()),
      0.02f,
      0.002f);
}

TEST(ScalarHead, ClassifierConfigNamesTheArchitectureAndOneLabel) {
  const nlohmann::json base = {{"model_type", "qwen2"},
                               {"architectures", {"Qwen2ForCausalLM"}},
                               {"hidden_size", 8}};
  EXPECT_FALSE(models::is_sequence_classifier(base));
  nlohmann::json c = models::sequence_classifier_config(base, 7);
  EXPECT_EQ(c["architectures"],
            nlohmann::json::array({"Qwen2ForSequenceClassification"}));
  EXPECT_EQ(c["num_labels"], 1);
  EXPECT_EQ(c["id2label"]["0"], "LABEL_0");
  EXPECT_EQ(c["pad_token_id"], 7);
  EXPECT_EQ(c["hidden_size"], 8);
  EXPECT_TRUE(models::is_sequence_classifier(c));
  // A pad token the config already has is kept.
  nlohmann::json with_pad = base;
  with_pad["pad_token_id"] = 2;
  EXPECT_EQ(models::sequence_classifier_config(with_pad, 7)["pad_token_id"], 2);
}

} // namespace
