// DPO's losses and rewards (train/methods/dpo_loss.h) against the published
// formulas written out in double precision on small known log-probs.
#include <algorithm>
#include <cmath>
#include <vector>

#include "mlxt/train/methods/dpo_loss.h"
#include "support/test_support.h"

namespace {

using namespace mlxt;
using config::DpoLossType;

// Two pairs: policy and reference log-probs of the chosen and rejected side.
const std::vector<double> kPiC = {-4.0, -7.5};
const std::vector<double> kPiR = {-6.0, -5.0};
const std::vector<double> kRefC = {-5.0, -7.0};
const std::vector<double> kRefR = {-5.5, -6.0};

double log_sigmoid(double x) {
  return -std::log1p(std::exp(-x));
}

std::vector<float> evaluated(const train::DpoLossOptions& options) {
  auto arr = [](const std::vector<double>& v) {
    std::vector<float> f(v.begin(), v.end());
    return mx::array(f.begin(), {static_cast<int>(f.size())}, mx::float32);
  };
  std::vector<mx::array> out = train::dpo_loss_sums(
      arr(kPiC), arr(kPiR), arr(kRefC), arr(kRefR), options);
  mx::eval(out);
  std::vector<float> values;
  for (const auto& a : out) {
    values.push_back(a.item<float>());
  }
  return values;
}

// h = (pi_c - ref_c) - (pi_r - ref_r) of pair i.
double h(size_t i) {
  return (kPiC[i] - kRefC[i]) - (kPiR[i] - kRefR[i]);
}

TEST(DpoLoss, SigmoidWithLabelSmoothingMatchesTheFormula) {
  const double beta = 0.1;
  const double ls = 0.2;
  std::vector<float> out = evaluated({beta, ls, DpoLossType::sigmoid});
  double loss = 0;
  for (size_t i = 0; i < 2; ++i) {
    loss +=
        -(1 - ls) * log_sigmoid(beta * h(i)) - ls * log_sigmoid(-beta * h(i));
  }
  EXPECT_NEAR(out[0], loss, 1e-6);
  EXPECT_EQ(out[1], 2.0f);
}

TEST(DpoLoss, IpoAndHingeMatchTheFormulas) {
  const double beta = 0.5;
  std::vector<float> ipo = evaluated({beta, 0.0, DpoLossType::ipo});
  std::vector<float> hinge = evaluated({beta, 0.0, DpoLossType::hinge});
  double ipo_sum = 0;
  double hinge_sum = 0;
  for (size_t i = 0; i < 2; ++i) {
    ipo_sum += std::pow(h(i) - 1 / (2 * beta), 2);
    hinge_sum += std::max(0.0, 1 - beta * h(i));
  }
  EXPECT_NEAR(ipo[0], ipo_sum, 1e-5);
  EXPECT_NEAR(hinge[0], hinge_sum, 1e-6);
}

TEST(DpoLoss, RewardsMarginAndAccuracy) {
  const double beta = 0.1;
  std::vector<float> out = evaluated({beta, 0.0, DpoLossType::sigmoid});
  double chosen = 0;
  double rejected = 0;
  double accurate = 0;
  for (size_t i = 0; i < 2; ++i) {
    const double rc = beta * (kPiC[i] - kRefC[i]);
    const double rr = beta * (kPiR[i] - kRefR[i]);
    chosen += rc;
    rejected += rr;
    accurate += rc > rr;
  }
  EXPECT_NEAR(out[2], chosen, 1e-6);
  EXPECT_NEAR(out[3], rejected, 1e-6);
  EXPECT_NEAR(out[4], chosen - rejected, 1e-6);
  EXPECT_EQ(out[5], accurate); // pair 0 right (h = 1.5), pair 1 wrong
  EXPECT_EQ(accurate, 1.0);
}

TEST(DpoLoss, EqualPolicyAndReferenceGiveLogTwo) {
  auto a = mx::array({-3.0f, -2.0f}, {2});
  auto b = mx::array({-1.0f, -4.0f}, {2});
  std::vector<mx::array> out =
      train::dpo_loss_sums(a, b, a, b, {0.1, 0.0, DpoLossType::sigmoid});
  EXPECT_NEAR(out[0].item<float>(), 2 * std::log(2.0), 1e-6);
}

} // namespace
