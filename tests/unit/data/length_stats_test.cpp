// data::length_stats: counts and nearest-rank length percentiles of an
// encoded split (what `mlxt data stats` and POST /v1/datasets/stats show).
#include "mlxt/data/stats.h"

#include <gtest/gtest.h>

namespace {

using mlxt::data::Example;

// An example of `length` tokens, the last `targets` of them with loss.
Example example(size_t length, size_t targets) {
  Example e;
  e.tokens.assign(length, 7);
  e.loss_mask.assign(length, 0);
  std::fill(
      e.loss_mask.end() - static_cast<long>(targets), e.loss_mask.end(), 1);
  return e;
}

TEST(LengthStats, CountsTokensAndTargets) {
  const auto s = mlxt::data::length_stats({example(5, 2), example(3, 3)});
  EXPECT_EQ(s.examples, 2u);
  EXPECT_EQ(s.tokens, 8u);
  EXPECT_EQ(s.target_tokens, 5u);
  EXPECT_EQ(s.min, 3u);
  EXPECT_EQ(s.max, 5u);
}

TEST(LengthStats, PercentilesAreNearestRank) {
  // Lengths 1..20: the median is the 10th, the p95 the 19th.
  std::vector<Example> examples;
  for (size_t n = 20; n >= 1; --n) {
    examples.push_back(example(n, 1));
  }
  const auto s = mlxt::data::length_stats(examples);
  EXPECT_EQ(s.median, 10u);
  EXPECT_EQ(s.p95, 19u);
  EXPECT_EQ(s.max, 20u);
  // One example is every percentile.
  const auto one = mlxt::data::length_stats({example(4, 1)});
  EXPECT_EQ(one.median, 4u);
  EXPECT_EQ(one.p95, 4u);
}

TEST(LengthStats, NoExamplesGiveZeros) {
  const auto s = mlxt::data::length_stats({});
  EXPECT_EQ(s.examples, 0u);
  EXPECT_EQ(s.p95, 0u);
  EXPECT_EQ(s.max, 0u);
}

} // namespace
