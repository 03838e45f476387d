// Every DPO-family loss (train/methods/dpo_loss.h) against an independent
// float64 NumPy implementation of the published equations
// (tests/oracles/dpo_loss_reference.py), on fixed random float32
// per-sequence log-probs. The loss and every metric, as the run reports them
// (means over pairs), agree within 1e-6 (relative above 1): float32
// rounding of O(1) values only.
#include <algorithm>
#include <cmath>
#include <random>

#include <nlohmann/json.hpp>

#include "mlxt/train/methods/dpo_loss.h"
#include "support/test_support.h"

namespace {

using namespace mlxt;
using config::DpoLossType;
using nlohmann::json;

constexpr int kPairs = 16;
constexpr int kExitSkip = 77; // the oracle's "no NumPy"

struct Case {
  std::string name;
  train::DpoLossOptions options;
};

std::vector<Case> cases() {
  return {{"sigmoid", {0.1, 0.0, DpoLossType::sigmoid}},
          {"sigmoid_smoothed", {0.1, 0.2, DpoLossType::sigmoid}},
          {"robust", {0.1, 0.2, DpoLossType::robust}},
          {"ipo", {0.5, 0.0, DpoLossType::ipo}},
          {"hinge", {0.1, 0.0, DpoLossType::hinge}},
          {"simpo", {2.0, 0.0, DpoLossType::simpo, 0.5}},
          {"simpo_smoothed", {2.5, 0.1, DpoLossType::simpo, 1.0}},
          {"orpo", {0.1, 0.0, DpoLossType::orpo}}};
}

// Fixed random pairs: answers of 1..40 tokens at -0.05..-3 nats a token
// (so averaged log-probs are negative, as ORPO's odds need), the reference
// near the policy.
struct Inputs {
  std::vector<float> pc, pr, rc, rr, nc, nr;
};

Inputs make_inputs() {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> length(1, 40);
  std::uniform_real_distribution<float> per_token(-3.0f, -0.05f);
  std::normal_distribution<float> shift(0.0f, 2.0f);
  Inputs in;
  for (int i = 0; i < kPairs; ++i) {
    in.nc.push_back(static_cast<float>(length(rng)));
    in.nr.push_back(static_cast<float>(length(rng)));
    in.pc.push_back(per_token(rng) * in.nc.back());
    in.pr.push_back(per_token(rng) * in.nr.back());
    in.rc.push_back(std::min(in.pc.back() + shift(rng), -0.01f));
    in.rr.push_back(std::min(in.pr.back() + shift(rng), -0.01f));
  }
  return in;
}

mx::array arr(const std::vector<float>& v) {
  return mx::array(v.begin(), {static_cast<int>(v.size())}, mx::float32);
}

json run_oracle(const Inputs& in) {
  json all = json::array();
  for (const Case& c : cases()) {
    all.push_back({{"name", c.name},
                   {"loss_type", config::to_string(c.options.type)},
                   {"beta", c.options.beta},
                   {"label_smoothing", c.options.label_smoothing},
                   {"simpo_gamma", c.options.simpo_gamma},
                   {"policy_chosen", in.pc},
                   {"policy_rejected", in.pr},
                   {"ref_chosen", in.rc},
                   {"ref_rejected", in.rr},
                   {"len_chosen", in.nc},
                   {"len_rejected", in.nr}});
  }
  mlxt::testing::TempDir dir;
  mlxt::testing::write_file(dir / "cases.json", json{{"cases", all}}.dump());
  auto run = mlxt::testing::run_command(
      {mlxt::testing::reference_python(),
       (mlxt::testing::source_dir() / "tests/oracles/dpo_loss_reference.py")
           .string(),
       (dir / "cases.json").string(),
       (dir / "out.json").string()});
  if (run.exit_code == kExitSkip) {
    return json{{"skip", run.output}};
  }
  EXPECT_EQ(run.exit_code, 0) << run.output;
  if (run.exit_code != 0) {
    return json();
  }
  const json out = json::parse(mlxt::testing::read_file(dir / "out.json"));
  json by_name = json::object();
  for (const auto& r : out["cases"]) {
    by_name[r["name"].get<std::string>()] = r;
  }
  return by_name;
}

void expect_close(double got, double want, const std::string& what) {
  EXPECT_LE(std::abs(got - want), 1e-6 * std::max(1.0, std::abs(want)))
      << what << ": got " << got << ", want " << want;
}

TEST(DpoLossParity, EveryVariantMatchesTheNumpyEquations) {
  if (!mlxt::testing::have_reference_python()) {
    GTEST_SKIP() << "reference Python not found ("
                 << mlxt::testing::reference_python()
                 << "); run scripts/setup --test";
  }
  const Inputs in = make_inputs();
  const json refs = run_oracle(in);
  if (refs.contains("skip")) {
    GTEST_SKIP() << refs["skip"].get<std::string>();
  }
  ASSERT_FALSE(refs.is_null());
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(refs.contains(c.name));
    const json& want = refs[c.name];
    std::optional<train::PairValues> reference;
    if (train::needs_reference(c.options.type)) {
      reference = train::PairValues{arr(in.rc), arr(in.rr)};
    }
    std::vector<mx::array> out = train::dpo_loss_sums({arr(in.pc), arr(in.pr)},
                                                      reference,
                                                      {arr(in.nc), arr(in.nr)},
                                                      c.options);
    mx::eval(out);
    const double count = out[1].item<float>();
    ASSERT_EQ(count, kPairs);
    expect_close(out[0].item<float>() / count, want["loss"], "loss");
    const std::vector<std::string> names =
        train::dpo_metric_names(c.options.type);
    ASSERT_EQ(out.size(), 2 + names.size());
    ASSERT_EQ(want["metrics"].size(), names.size());
    for (size_t m = 0; m < names.size(); ++m) {
      expect_close(out[2 + m].item<float>() / count,
                   want["metrics"][names[m]],
                   names[m]);
    }
  }
}

} // namespace
