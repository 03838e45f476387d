// Batched sampling (generate/batch_generate.h): left-padded prompts of
// different lengths continue as each would alone, the key alone decides the
// samples and is advanced, and each row stops at its own stop id.
#include <vector>

#include "mlxt/generate/batch_generate.h"
#include "mlxt/models/init.h"
#include "support/test_support.h"

namespace {

using namespace mlxt;
namespace mx = mlx::core;

class BatchGenerate : public ::testing::Test {
protected:
  models::Model model_ = models::init_model(
      {.preset = "tiny", .vocab_size = 64, .seed = 3, .init_std = 0.2f});
  nn::ForwardContext ctx_;
  const std::vector<std::vector<int>> prompts_ = {
      {5, 9, 13, 2, 40, 7}, {11}, {3, 3, 60}, {21, 22, 23, 24}};

  std::vector<std::vector<int>> batch(const generate::SamplingOptions& o,
                                      mx::array& key) {
    return generate::generate_batch(
        model_.args, model_.weights, ctx_, prompts_, o, key);
  }
};

TEST_F(BatchGenerate, GreedyRowsEqualOneAtATimeGeneration) {
  generate::SamplingOptions greedy{.max_tokens = 8};
  mx::array key = mx::random::key(0);
  const auto rows = batch(greedy, key);
  ASSERT_EQ(rows.size(), prompts_.size());
  for (size_t i = 0; i < prompts_.size(); ++i) {
    EXPECT_EQ(rows[i],
              generate::generate_tokens(
                  model_.args, model_.weights, ctx_, prompts_[i], greedy))
        << "row " << i;
  }
}

TEST_F(BatchGenerate, TheKeyDecidesTheSamplesAndAdvances) {
  generate::SamplingOptions o{.max_tokens = 6, .temperature = 1.0f};
  mx::array a = mx::random::key(5);
  mx::array b = mx::random::key(5);
  const auto first = batch(o, a);
  EXPECT_EQ(first, batch(o, b));
  // The advanced keys agree and draw something else next time.
  EXPECT_TRUE(mx::array_equal(a, b).item<bool>());
  EXPECT_FALSE(mx::array_equal(a, mx::random::key(5)).item<bool>());
  EXPECT_NE(first, batch(o, a));
}

TEST_F(BatchGenerate, ATinyNucleusIsGreedy) {
  generate::SamplingOptions greedy{.max_tokens = 6};
  generate::SamplingOptions nucleus{
      .max_tokens = 6, .temperature = 1.0f, .top_p = 1e-6f};
  mx::array key = mx::random::key(1);
  EXPECT_EQ(batch(nucleus, key), batch(greedy, key));
}

TEST_F(BatchGenerate, EachRowStopsAtItsStopId) {
  generate::SamplingOptions o{.max_tokens = 12, .temperature = 1.0f};
  mx::array key = mx::random::key(2);
  const auto free_rows = batch(o, key);
  // Stop at the third token of row 0: row 0 ends there, others go on
  // until they meet that id themselves.
  const int stop = free_rows[0][2];
  o.stop_ids = {stop};
  key = mx::random::key(2);
  const auto rows = batch(o, key);
  for (size_t i = 0; i < rows.size(); ++i) {
    auto hit = std::find(free_rows[i].begin(), free_rows[i].end(), stop);
    const std::vector<int> want(free_rows[i].begin(),
                                hit == free_rows[i].end() ? hit : hit + 1);
    EXPECT_EQ(rows[i], want) << "row " << i;
  }
}

} // namespace
