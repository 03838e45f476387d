// The reward model's Bradley-Terry loss (train/methods/reward_loss.h) against
// an independent float64 NumPy implementation (tests/oracles/
// reward_loss_reference.py) on fixed random rewards, and the batch layout it
// reads (train/methods/reward_batch.h).
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/train/methods/pair_batches.h"
#include "mlxt/train/methods/reward_batch.h"
#include "mlxt/train/methods/reward_loss.h"
#include "support/test_support.h"

namespace {

using namespace mlxt;
using nlohmann::json;

struct Case {
  std::string name;
  std::vector<float> chosen, rejected, margin;
  double center = 0.0;
};

// B pairs of N(0, scale^2) rewards; margins U(0, 1) when `with_margin`.
Case make_case(const std::string& name,
               unsigned seed,
               int B,
               float scale,
               bool with_margin,
               double center) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  Case c{name, {}, {}, {}, center};
  for (int i = 0; i < B; ++i) {
    c.chosen.push_back(normal(rng));
    c.rejected.push_back(normal(rng));
    c.margin.push_back(with_margin ? uniform(rng) : 0.0f);
  }
  return c;
}

std::vector<Case> cases() {
  return {make_case("plain", 1, 32, 2.0f, false, 0.0),
          make_case("margin", 2, 32, 2.0f, true, 0.0),
          make_case("centered", 3, 32, 2.0f, false, 0.01),
          make_case("margin_centered", 4, 32, 2.0f, true, 0.05),
          // Rewards far in both tails: log sigmoid must not overflow.
          make_case("large", 5, 16, 40.0f, true, 0.0)};
}

mx::array vec(const std::vector<float>& v) {
  return mx::array(v.begin(), {static_cast<int>(v.size())}, mx::float32);
}

// The reference's answers by case name; null without the test Python.
json reference() {
  json in = json::array();
  for (const Case& c : cases()) {
    in.push_back({{"name", c.name},
                  {"chosen", c.chosen},
                  {"rejected", c.rejected},
                  {"margin", c.margin},
                  {"center_rewards_coefficient", c.center}});
  }
  mlxt::testing::TempDir dir;
  json cases_json = json::object();
  cases_json["cases"] = in;
  mlxt::testing::write_file(dir / "cases.json", cases_json.dump());
  auto run = mlxt::testing::run_command(
      {mlxt::testing::reference_python(),
       (mlxt::testing::source_dir() / "tests/oracles/reward_loss_reference.py")
           .string(),
       (dir / "cases.json").string(),
       (dir / "out.json").string()});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  if (run.exit_code != 0) {
    return nullptr;
  }
  json by_name = json::object();
  const json out =
      json::parse(mlxt::testing::read_file(dir / "out.json"))["cases"];
  for (const json& r : out) {
    by_name[r["name"].get<std::string>()] = r;
  }
  return by_name;
}

// Within 1e-6, relative past magnitude 1: float32 holds about 7 digits.
double tolerance(double want) {
  return 1e-6 * std::max(1.0, std::abs(want));
}

TEST(RewardLoss, MatchesTheFloat64Reference) {
  if (!mlxt::testing::have_reference_python()) {
    GTEST_SKIP() << "no reference Python at "
                 << mlxt::testing::reference_python();
  }
  const json want = reference();
  ASSERT_FALSE(want.is_null());
  const std::vector<std::string> names = train::pair_metric_names();
  for (const Case& c : cases()) {
    std::vector<mx::array> out =
        train::reward_loss_sums(vec(c.chosen),
                                vec(c.rejected),
                                vec(c.margin),
                                {.center_rewards_coefficient = c.center});
    mx::eval(out);
    const double count = out[1].item<float>();
    ASSERT_EQ(count, static_cast<double>(c.chosen.size())) << c.name;
    const json& w = want[c.name];
    EXPECT_NEAR(out[0].item<float>() / count,
                w["loss"].get<double>(),
                tolerance(w["loss"].get<double>()))
        << c.name;
    for (size_t m = 0; m < names.size(); ++m) {
      const double want_m = w[names[m]].get<double>();
      EXPECT_NEAR(out[2 + m].item<float>() / count, want_m, tolerance(want_m))
          << c.name << " " << names[m];
    }
  }
}

TEST(RewardLoss, GradientIsTheBradleyTerryGradient) {
  // d/dr_c = -sigmoid(-(r_c - r_r - m)) + 2 c (r_c + r_r); d/dr_r mirrors
  // the first term.
  const Case c = make_case("grad", 7, 8, 1.5f, true, 0.1);
  auto loss = [&](const std::vector<mx::array>& r) {
    return train::reward_loss_sums(
        r[0], r[1], vec(c.margin), {.center_rewards_coefficient = c.center})[0];
  };
  std::vector<mx::array> g =
      mx::grad(loss, std::vector<int>{0, 1})({vec(c.chosen), vec(c.rejected)});
  mx::eval(g);
  for (size_t i = 0; i < c.chosen.size(); ++i) {
    const double x = double(c.chosen[i]) - c.rejected[i] - c.margin[i];
    const double s = 1.0 / (1.0 + std::exp(x)); // sigmoid(-x)
    const double center = 2 * c.center * (double(c.chosen[i]) + c.rejected[i]);
    EXPECT_NEAR(g[0].data<float>()[i], -s + center, 1e-6);
    EXPECT_NEAR(g[1].data<float>()[i], s + center, 1e-6);
  }
}

TEST(RewardBatch, ChosenRowsThenRejectedWithLastPositionsAndMargins) {
  data::PreferencePair a{{{1, 2, 3}, {0, 1, 1}}, {{1, 2}, {0, 1}}, 0.5f};
  data::PreferencePair b{{{4, 5}, {0, 1}}, {{4, 5, 6, 7}, {0, 1, 1, 1}}, 0.0f};
  train::MethodBatch batch = train::reward_batch({&a, &b}, 8);
  ASSERT_EQ(batch.arrays.size(), 3u);
  const mx::array& tokens = batch.arrays[0];
  EXPECT_EQ(tokens.shape(), (mx::Shape{4, 8}));
  const std::vector<int32_t> want_tokens = {1, 2, 3, 0, 0, 0, 0, 0, //
                                            4, 5, 0, 0, 0, 0, 0, 0, //
                                            1, 2, 0, 0, 0, 0, 0, 0, //
                                            4, 5, 6, 7, 0, 0, 0, 0};
  const int32_t* t = tokens.data<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(t, t + 32), want_tokens);
  const int32_t* last = batch.arrays[1].data<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(last, last + 4),
            (std::vector<int32_t>{2, 1, 1, 3}));
  const float* margin = batch.arrays[2].data<float>();
  EXPECT_EQ(std::vector<float>(margin, margin + 2),
            (std::vector<float>{0.5f, 0.0f}));
  EXPECT_EQ(batch.tokens, 11);
  EXPECT_EQ(batch.target_tokens, 4);
}

} // namespace
