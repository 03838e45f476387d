// Parameter groups: weight-decay exclusions, per-group learning rates and
// hyper-parameters, a stable state layout, and errors that name the key.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/optim/catalogue.h"
#include "mlxt/optim/param_groups.h"
#include "support/numeric_compare.h"
#include "support/test_support.h"

namespace {

namespace mx = mlx::core;
using nlohmann::json;
using namespace mlxt::optim;
using mlxt::testing::step_array;

// Names as a Llama-style model with LoRA has them.
const std::vector<std::string> kNames{
    "model.embed_tokens.weight",
    "model.layers.0.input_layernorm.weight",
    "model.layers.0.self_attn.q_proj.bias",
    "model.layers.0.self_attn.q_proj.lora_a",
    "model.layers.0.self_attn.q_proj.lora_b",
    "model.layers.0.self_attn.q_proj.weight",
    "model.norm.weight",
};
const std::vector<mx::Shape> kShapes{
    {10, 4}, {4}, {6}, {4, 2}, {2, 6}, {6, 4}, {4}};

std::vector<mx::array> random_tensors(uint64_t seed, float scale) {
  auto key = mx::random::key(seed);
  std::vector<mx::array> out;
  for (const auto& shape : kShapes) {
    auto [next, sub] = mx::random::split(key);
    key = next;
    out.push_back(mx::random::normal(shape, mx::float32, 0.0f, scale, sub));
  }
  mx::eval(out);
  return out;
}

// Runs `opt` for `steps` steps on fixed random params and grads.
std::vector<mx::array> run(const Optimizer& opt, int steps) {
  auto params = random_tensors(1, 1.0f);
  auto state = opt.init_state(params);
  for (int k = 0; k < steps; ++k) {
    std::tie(params, state) =
        opt.update(params, random_tensors(100 + k, 0.5f), state, step_array(k));
    mx::eval(params);
    mx::eval(state);
  }
  return params;
}

bool same(const mx::array& a, const mx::array& b) {
  return mx::array_equal(a, b).item<bool>();
}

std::string key_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const mlxt::Error& e) {
    return e.context().key;
  }
  return "(no error)";
}

TEST(ParamGroups, PatternsAreGlobsOrWords) {
  EXPECT_TRUE(pattern_matches("*.lora_b", "a.q_proj.lora_b"));
  EXPECT_FALSE(pattern_matches("*.lora_b", "a.q_proj.lora_b.x"));
  EXPECT_TRUE(pattern_matches("model.layers.*.q_proj.*",
                              "model.layers.3.q_proj.weight"));
  EXPECT_FALSE(pattern_matches("layers.*", "model.layers.3.q_proj.weight"));
  EXPECT_TRUE(pattern_matches("norm", "model.layers.0.input_layernorm.weight"));
  EXPECT_TRUE(pattern_matches("bias", "model.layers.0.self_attn.q_proj.bias"));
  EXPECT_FALSE(pattern_matches("embed", "lm_head.weight"));
}

TEST(ParamGroups, ExcludedParametersGetNoWeightDecay) {
  const auto lr = constant_schedule(1e-2f);
  auto grouped = make_grouped_optimizer(
      "adamw",
      {{"weight_decay", 0.1}},
      lr,
      {{"weight_decay_exclude", {"bias", "norm", "embed"}}},
      kNames);
  auto got = run(*grouped, 3);
  auto decayed = run(*make_optimizer("adamw", {{"weight_decay", 0.1}}, lr), 3);
  auto undecayed =
      run(*make_optimizer("adamw", {{"weight_decay", 0.0}}, lr), 3);
  for (size_t i = 0; i < kNames.size(); ++i) {
    // The two references differ, so each comparison can fail.
    ASSERT_FALSE(same(decayed[i], undecayed[i])) << kNames[i];
    const bool excluded = kNames[i].find("bias") != std::string::npos ||
                          kNames[i].find("norm") != std::string::npos ||
                          kNames[i].find("embed") != std::string::npos;
    EXPECT_TRUE(same(got[i], excluded ? undecayed[i] : decayed[i]))
        << kNames[i] << (excluded ? " should not decay" : " should decay");
  }
}

TEST(ParamGroups, GroupLearningRateScalesTheSchedule) {
  const auto lr = linear_schedule(1e-2f, 2e-3f, 4);
  const auto lr4 = linear_schedule(4e-2f, 8e-3f, 4);
  // The same multiplier given as lr_scale and as lr over the base rate.
  for (const json& group : {json{{"match", "*.lora_b"}, {"lr_scale", 4.0}},
                            json{{"match", "*.lora_b"}, {"lr", 4e-2}}}) {
    SCOPED_TRACE(group.dump());
    auto grouped = make_grouped_optimizer("sgd",
                                          {{"momentum", 0.9}},
                                          lr,
                                          {{"groups", {group}}},
                                          kNames,
                                          /*base_lr=*/1e-2);
    auto got = run(*grouped, 3);
    auto base = run(*make_optimizer("sgd", {{"momentum", 0.9}}, lr), 3);
    auto fast = run(*make_optimizer("sgd", {{"momentum", 0.9}}, lr4), 3);
    for (size_t i = 0; i < kNames.size(); ++i) {
      const bool lora_b = kNames[i].ends_with(".lora_b");
      // Rounding of 4 * lr(step) may differ from lr4(step) by an ulp.
      EXPECT_TRUE(mx::allclose(got[i], lora_b ? fast[i] : base[i], 1e-6, 1e-7)
                      .item<bool>())
          << kNames[i];
      EXPECT_FALSE(mx::allclose(got[i], lora_b ? base[i] : fast[i], 1e-6, 1e-7)
                       .item<bool>())
          << kNames[i];
    }
  }
}

TEST(ParamGroups, FirstMatchingGroupWinsAndExclusionSplitsIt) {
  auto plan = plan_param_groups(
      "adamw",
      {{"weight_decay", 0.05}},
      {{"weight_decay_exclude", {"bias"}},
       {"groups",
        {{{"name", "lora"}, {"match", {"lora_a", "lora_b"}}, {"lr_scale", 2}},
         {{"name", "attn"}, {"match", "*self_attn*"}, {"beta1", 0.8}}}}},
      kNames,
      0.0);
  const json described = describe_plan(plan, kNames);
  json by_name = json::object();
  for (const auto& g : described["groups"]) {
    by_name[g["name"].get<std::string>()] = g;
  }
  ASSERT_EQ(by_name.size(), 4u) << by_name.dump(2);
  // The LoRA matrices also match attn's pattern, but lora comes first.
  EXPECT_EQ(by_name["lora"]["members"],
            json({"model.layers.0.self_attn.q_proj.lora_a",
                  "model.layers.0.self_attn.q_proj.lora_b"}));
  EXPECT_EQ(by_name["lora"]["lr_scale"], 2.0);
  EXPECT_EQ(by_name["lora"]["params"]["beta1"], 0.9);
  EXPECT_EQ(by_name["attn"]["members"],
            json({"model.layers.0.self_attn.q_proj.weight"}));
  EXPECT_EQ(by_name["attn"]["params"]["beta1"], 0.8);
  EXPECT_EQ(by_name["attn"]["params"]["weight_decay"], 0.05);
  // The bias stays in attn (beta1 0.8) but loses its decay.
  EXPECT_EQ(by_name["attn/no_decay"]["members"],
            json({"model.layers.0.self_attn.q_proj.bias"}));
  EXPECT_EQ(by_name["attn/no_decay"]["params"]["weight_decay"], 0.0);
  EXPECT_EQ(by_name["attn/no_decay"]["params"]["beta1"], 0.8);
  EXPECT_EQ(by_name["default"]["members"].size(), 3u);
  EXPECT_EQ(by_name["default"]["params"]["beta1"], 0.9);
  EXPECT_EQ(by_name["default"]["lr_scale"], 1.0);
}

TEST(ParamGroups, OneGroupIsThePlainOptimizer) {
  const auto lr = with_warmup(cosine_decay(1e-2f, 10, 1e-3f), 2, 0.0f);
  for (const std::string name :
       {"adamw", "sgd", "lion", "adafactor", "lamb", "novograd"}) {
    SCOPED_TRACE(name);
    auto plain = make_optimizer(name, json(), lr);
    auto grouped = make_grouped_optimizer(name, json(), lr, json(), kNames);
    EXPECT_EQ(grouped->name(), name);
    EXPECT_EQ(grouped->state_names(kNames), plain->state_names(kNames));
    auto params = random_tensors(1, 1.0f);
    auto a = plain->init_state(params), b = grouped->init_state(params);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].shape(), b[i].shape()) << i;
      EXPECT_EQ(a[i].dtype(), b[i].dtype()) << i;
    }
    auto want = run(*plain, 3), got = run(*grouped, 3);
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_TRUE(same(want[i], got[i])) << kNames[i];
    }
  }
}

TEST(ParamGroups, StateLayoutFollowsParameterOrderAcrossGroups) {
  // Adafactor keeps a first moment only where beta1 > 0: 4 slots for the
  // lora group, 3 elsewhere, interleaved in parameter order.
  auto opt = make_grouped_optimizer(
      "adafactor",
      json(),
      constant_schedule(1e-2f),
      {{"groups", {{{"match", "lora_"}, {"beta1", 0.9}}}}},
      kNames);
  std::vector<std::string> want;
  for (const auto& n : kNames) {
    for (const char* slot : {".v_row", ".v_col", ".v"}) {
      want.push_back(n + slot);
    }
    if (n.find("lora_") != std::string::npos) {
      want.push_back(n + ".m");
    }
  }
  EXPECT_EQ(opt->state_names(kNames), want);
  auto params = random_tensors(1, 1.0f);
  auto state = opt->init_state(params);
  ASSERT_EQ(state.size(), want.size());
  EXPECT_EQ(state[3 * 3 + 3].shape(), kShapes[3]); // lora_a.m
}

TEST(ParamGroups, UpdateTracesIntoACompiledStep) {
  // SGD keeps MLX's CPU kernel compilation short; the groups still differ
  // in learning rate and velocity.
  auto opt = make_grouped_optimizer(
      "sgd",
      {{"momentum", 0.9}},
      constant_schedule(1e-2f),
      {{"weight_decay_exclude", "norm"},
       {"groups", {{{"match", "lora_"}, {"lr_scale", 3}, {"momentum", 0.5}}}}},
      kNames);
  auto params = random_tensors(1, 1.0f);
  auto state = opt->init_state(params);
  const size_t n = params.size(), ns = state.size();
  const Optimizer* o = opt.get();
  auto compiled = mx::compile([o, n, ns](const std::vector<mx::array>& in) {
    std::vector<mx::array> p(in.begin(), in.begin() + n);
    std::vector<mx::array> g(in.begin() + n, in.begin() + 2 * n);
    std::vector<mx::array> s(in.begin() + 2 * n, in.begin() + 2 * n + ns);
    auto [np, nst] = o->update(p, g, s, in.back());
    np.insert(np.end(), nst.begin(), nst.end());
    return np;
  });
  auto grads = random_tensors(7, 0.5f);
  std::vector<mx::array> in = params;
  in.insert(in.end(), grads.begin(), grads.end());
  in.insert(in.end(), state.begin(), state.end());
  in.push_back(step_array(0));
  auto out = compiled(in);
  auto [eager_p, eager_s] = opt->update(params, grads, state, step_array(0));
  for (size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(same(out[i], eager_p[i])) << kNames[i];
    EXPECT_TRUE(same(out[n + i], eager_s[i])) << kNames[i];
  }
}

TEST(ParamGroups, BadConfigsNameTheKey) {
  const auto lr = constant_schedule(1e-2f);
  auto make = [&](const json& groups, double base_lr = 0.0) {
    return [=] {
      make_grouped_optimizer("adamw", json(), lr, groups, kNames, base_lr);
    };
  };
  EXPECT_MLXT_ERROR(make({{"weight_decay_exclud", {"bias"}}})(),
                    invalid_config,
                    "did you mean 'weight_decay_exclude'");
  EXPECT_EQ(key_of(make({{"groups", {{{"match", "*.lora_c"}}}}})),
            "param_groups.groups[0].match");
  EXPECT_MLXT_ERROR(make({{"groups", {{{"match", "*.lora_c"}}}}})(),
                    invalid_config,
                    "matches no parameter");
  // A group shadowed by an earlier one is a mistake in the order.
  EXPECT_MLXT_ERROR(make({{"groups",
                           {{{"name", "attn"}, {"match", "self_attn"}},
                            {{"name", "lora"}, {"match", "lora_b"}}}}})(),
                    invalid_config,
                    "went to group 'attn'");
  EXPECT_EQ(key_of(make({{"groups", {{{"match", "lora_b"}, {"lr", 1e-3}}}}})),
            "param_groups.groups[0].lr");
  EXPECT_EQ(
      key_of(make(
          {{"groups", {{{"match", "lora_b"}, {"lr", 1e-3}, {"lr_scale", 2}}}}},
          1e-2)),
      "param_groups.groups[0].lr");
  EXPECT_EQ(key_of(make({{"groups", {{{"match", "lora_b"}, {"beta1", 2.0}}}}})),
            "param_groups.groups[0].beta1");
  EXPECT_MLXT_ERROR(
      make({{"groups", {{{"match", "lora_b"}, {"betta1", 0.8}}}}})(),
      invalid_config,
      "did you mean 'beta1'");
  EXPECT_EQ(key_of(make({{"groups",
                          {{{"name", "x"}, {"match", "lora_a"}},
                           {{"name", "x"}, {"match", "lora_b"}}}}})),
            "param_groups.groups[1].name");
  EXPECT_EQ(key_of(make({{"groups", {{{"match", json::array()}}}}})),
            "param_groups.groups[0].match");
  EXPECT_EQ(key_of([&] {
              make_grouped_optimizer(
                  "adafactor",
                  {{"relative_step", true}},
                  lr,
                  {{"groups", {{{"match", "lora_b"}, {"lr_scale", 2.0}}}}},
                  kNames);
            }),
            "param_groups.groups[0].lr_scale");
  EXPECT_MLXT_ERROR(make(json::array())(), invalid_config, "must be an object");
  // The base parameters are checked as make_optimizer checks them.
  EXPECT_MLXT_ERROR(
      make_grouped_optimizer("adamw", json::array(), lr, json(), kNames),
      invalid_config,
      "must be a JSON object");
  EXPECT_MLXT_ERROR(make_grouped_optimizer("adamx", json(), lr, json(), kNames),
                    invalid_config,
                    "did you mean 'adamw'");
}

TEST(ParamGroups, MismatchedParameterCountIsInternal) {
  auto opt = make_grouped_optimizer(
      "sgd", json(), constant_schedule(1e-2f), json(), kNames);
  EXPECT_MLXT_ERROR(opt->state_names({"a"}), internal, "planned for 7");
  EXPECT_MLXT_ERROR(
      opt->init_state({mx::ones({2})}), internal, "planned for 7");
}

TEST(ParamGroups, CatalogueDescribesTheBlock) {
  auto schema = optimizer_catalogue_json()["param_groups"];
  EXPECT_TRUE(schema.contains("weight_decay_exclude")) << schema.dump();
  for (const char* key : {"name", "match", "lr_scale", "lr"}) {
    EXPECT_TRUE(schema["groups"].contains(key)) << key;
  }
}

} // namespace
