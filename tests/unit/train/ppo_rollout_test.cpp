// PPO's rollout batch (train/methods/ppo_rollout.h): update targets of a
// small hand-worked rollout (k1 KL penalty, the score at the last token,
// GAE, whitening over the batch), their layout in micro-batches at the
// completion's target positions, and the checkpoint form, exact to the bit.
#include <cmath>
#include <vector>

#include "mlxt/train/methods/ppo_rollout.h"
#include "support/test_support.h"

namespace {

using namespace mlxt;
using namespace mlxt::train;

// Two completions: A of 2 tokens (prompt 2), B of 1 token (prompt 2).
std::vector<SampledCompletion> two_completions() {
  SampledCompletion a{{{1, 2, 3, 4}, {0, 0, 1, 1}},
                      1.0,
                      {-1.0, -2.0},
                      {-1.5, -2.0},
                      {0.5, 0.25}};
  SampledCompletion b{{{1, 2, 5}, {0, 0, 1}}, 0.0, {-0.5}, {-0.25}, {0.0}};
  return {a, b};
}

TEST(PpoRollout, HandWorkedTargets) {
  const double kl_coef = 0.1, gamma = 1.0, lam = 0.5;
  PpoRollout r = build_ppo_rollout(two_completions(), kl_coef, gamma, lam);
  ASSERT_EQ(r.rows.size(), 2u);
  // A: k1 = [0.5, 0]; rewards [-0.05, 1.0 (score)]; values [0.5, 0.25].
  //   t=1: delta = 1.0 - 0.25 = 0.75, A = 0.75
  //   t=0: delta = -0.05 + 0.25 - 0.5 = -0.3, A = -0.3 + 0.5 * 0.75 = 0.075
  // B: k1 = [-0.25]; reward 0.025 + 0; value 0: A = 0.025.
  const std::vector<double> raw = {0.075, 0.75, 0.025};
  const std::vector<double> returns = {0.575, 1.0, 0.025};
  const double mean = (raw[0] + raw[1] + raw[2]) / 3.0;
  double ss = 0.0;
  for (double x : raw) {
    ss += (x - mean) * (x - mean);
  }
  const double scale = 1.0 / std::sqrt(ss / 2.0 + 1e-8);
  const std::vector<float> got_adv = {r.rows[0].advantages[0],
                                      r.rows[0].advantages[1],
                                      r.rows[1].advantages[0]};
  const std::vector<float> got_ret = {
      r.rows[0].returns[0], r.rows[0].returns[1], r.rows[1].returns[0]};
  for (size_t i = 0; i < raw.size(); ++i) {
    EXPECT_NEAR(got_adv[i], (raw[i] - mean) * scale, 1e-6) << i;
    EXPECT_NEAR(got_ret[i], returns[i], 1e-7) << i;
  }
  EXPECT_EQ(r.rows[0].old_logps, (std::vector<float>{-1.0f, -2.0f}));
  EXPECT_EQ(r.rows[0].old_values, (std::vector<float>{0.5f, 0.25f}));
  EXPECT_NEAR(r.mean_kl, (0.5 + -0.25) / 2.0, 1e-12);
  EXPECT_NEAR(r.mean_score, 0.5, 1e-12);
  EXPECT_NEAR(r.mean_non_score_reward, (-0.05 + 0.025) / 2.0, 1e-12);
}

TEST(PpoRollout, BatchesPutEachTokensValuesAtItsTargetPosition) {
  PpoRollout r = build_ppo_rollout(two_completions(), 0.1, 1.0, 0.95);
  std::vector<MethodBatch> batches = ppo_batches(
      r, {.batch_size = 2, .pad_multiple = 1, .max_seq_length = 64});
  ASSERT_EQ(batches.size(), 1u);
  const std::vector<mx::array>& a = batches[0].arrays;
  ASSERT_EQ(a.size(), 7u);
  mx::eval(a);
  ASSERT_EQ(a[3].shape(), (mx::Shape{2, 3}));
  EXPECT_EQ(batches[0].target_tokens, 3);
  // Target t predicts token t + 1: A's completion is at t = 1, 2, B's at 1.
  const float* mask = a[2].data<float>();
  const float* old_logps = a[3].data<float>();
  const float* returns = a[6].data<float>();
  const std::vector<float> want_mask = {0, 1, 1, 0, 1, 0};
  const std::vector<float> want_logps = {0, -1, -2, 0, -0.5f, 0};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(mask[i], want_mask[i]) << i;
    EXPECT_EQ(old_logps[i], want_logps[i]) << i;
  }
  EXPECT_EQ(returns[2], r.rows[0].returns[1]);
  EXPECT_EQ(returns[4], r.rows[1].returns[0]);
}

TEST(PpoRollout, CheckpointFormIsExact) {
  std::vector<SampledCompletion> s = two_completions();
  s[0].logps = {-1.0 / 3.0, -2.0 / 7.0}; // values with no short decimal form
  PpoRollout r = build_ppo_rollout(s, 0.037, 0.99, 0.95);
  PpoRollout back =
      ppo_rollout_from_json(nlohmann::json::parse(to_json(r).dump()));
  ASSERT_EQ(back.rows.size(), r.rows.size());
  for (size_t i = 0; i < r.rows.size(); ++i) {
    EXPECT_EQ(back.rows[i].sequence.tokens, r.rows[i].sequence.tokens);
    EXPECT_EQ(back.rows[i].sequence.loss_mask, r.rows[i].sequence.loss_mask);
    EXPECT_EQ(back.rows[i].old_logps, r.rows[i].old_logps);
    EXPECT_EQ(back.rows[i].old_values, r.rows[i].old_values);
    EXPECT_EQ(back.rows[i].advantages, r.rows[i].advantages);
    EXPECT_EQ(back.rows[i].returns, r.rows[i].returns);
  }
  EXPECT_EQ(back.mean_kl, r.mean_kl);
  EXPECT_EQ(back.mean_non_score_reward, r.mean_non_score_reward);
}

TEST(PpoRollout, PerTokenValuesMustMatchTheCompletion) {
  std::vector<SampledCompletion> s = two_completions();
  s[1].values = {0.0, 1.0}; // B has one completion token
  EXPECT_MLXT_ERROR(build_ppo_rollout(s, 0.1, 1.0, 0.95), internal, "values");
}

} // namespace
