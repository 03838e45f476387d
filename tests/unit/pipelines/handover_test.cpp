// Stage hand-over (pipelines/handover.h) and the pipeline spec's checks
// (pipelines/manager.h): what each stage trains from, decided without
// training anything.
#include <gtest/gtest.h>

#include "mlxt/config/config.h"
#include "mlxt/core/error.h"
#include "mlxt/pipelines/handover.h"
#include "mlxt/pipelines/manager.h"
#include "mlxt/pipelines/stages.h"

namespace {

using mlxt::Error;
using mlxt::ErrorCode;
using nlohmann::json;
using namespace mlxt::pipelines;

// A finished stage as its job records it: the resolved config it ran.
EarlierStage finished(const std::string& method,
                      const std::string& fine_tune_type,
                      const std::string& output_dir,
                      int rank = 8) {
  json config = {{"model", "models/base"},
                 {"data", "d"},
                 {"fine_tune_type", fine_tune_type},
                 {"num_layers", 4},
                 {"lora_parameters", {{"rank", rank}}}};
  return {method,
          mlxt::config::train_config_from_json(config, "test").to_json(),
          output_dir};
}

// The message of the Error(invalid_config) that `f` throws.
template <class F>
std::string invalid_config(F f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_config) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(Handover, FullSftOutputIsTheDpoModel) {
  json c = handover_config("dpo",
                           {{"data", "prefs"}},
                           "",
                           {finished("sft", "full", "runs/a/model")},
                           "stages[1]");
  EXPECT_EQ(c["method"], "dpo");
  EXPECT_EQ(c["model"], "runs/a/model");
  EXPECT_FALSE(c.contains("resume_adapter_file"));
}

TEST(Handover, LoraSftAdaptersAreWhereDpoStartsWithTheirShape) {
  json c = handover_config("dpo",
                           {{"data", "prefs"}},
                           "",
                           {finished("sft", "lora", "runs/a/adapters", 16)},
                           "stages[1]");
  EXPECT_EQ(c["model"], "models/base");
  EXPECT_EQ(c["resume_adapter_file"], "runs/a/adapters/adapters.safetensors");
  EXPECT_EQ(c["num_layers"], 4);
  EXPECT_EQ(c["lora_parameters"]["rank"], 16);
  EXPECT_EQ(c["lora_parameters"]["scale"], 20.0);
  // What the stage sets itself stays; the result is a valid config.
  json own = handover_config(
      "sft",
      {{"data", "d"}, {"num_layers", 2}, {"lora_parameters", {{"alpha", 32}}}},
      "",
      {finished("sft", "lora", "runs/a/adapters", 16)},
      "stages[1]");
  EXPECT_EQ(own["num_layers"], 2);
  EXPECT_FALSE(own["lora_parameters"].contains("scale"));
  auto resolved = mlxt::config::train_config_from_json(own, "test");
  EXPECT_EQ(resolved.lora_parameters.rank, 16);
  EXPECT_FLOAT_EQ(resolved.lora_parameters.scale, 2.0f);
}

TEST(Handover, FullStageAfterLoraTakesTheAdaptersToMerge) {
  json c = handover_config("sft",
                           {{"data", "d"}, {"fine_tune_type", "full"}},
                           "",
                           {finished("sft", "lora", "runs/a/adapters")},
                           "stages[1]");
  EXPECT_EQ(c["model"], "models/base");
  EXPECT_EQ(c["resume_adapter_file"], "runs/a/adapters/adapters.safetensors");
  EXPECT_FALSE(c.contains("lora_parameters"));
}

TEST(Handover, RewardStageOutputIsTheRewardModelOfLaterRlStages) {
  const std::vector<EarlierStage> earlier = {
      finished("sft", "full", "runs/sft/model"),
      finished("reward", "full", "runs/rm/model")};
  for (const char* method : {"ppo", "grpo"}) {
    json c = handover_config(method, {{"data", "p"}}, "", earlier, "s[2]");
    // The policy skips the reward stage.
    EXPECT_EQ(c["model"], "runs/sft/model") << method;
    EXPECT_EQ(c["reward_model"], "runs/rm/model") << method;
  }
  // A reward the stage names itself is kept.
  json own = handover_config(
      "ppo", {{"reward", "exact_match"}}, "", earlier, "stages[2]");
  EXPECT_FALSE(own.contains("reward_model"));
  // DPO takes no reward model.
  EXPECT_FALSE(handover_config("dpo", json::object(), "", earlier, "stages[2]")
                   .contains("reward_model"));
}

TEST(Handover, ANamedInputModelIsUsedAsItIs) {
  json c = handover_config("dpo",
                           json::object(),
                           "models/other",
                           {finished("sft", "lora", "runs/a/adapters")},
                           "stages[1]");
  EXPECT_EQ(c["model"], "models/other");
  EXPECT_FALSE(c.contains("resume_adapter_file"));
}

TEST(Handover, RefusesAHandOverWithoutASource) {
  EXPECT_NE(invalid_config([] {
              handover_config("ppo",
                              json::object(),
                              "",
                              {finished("reward", "full", "runs/rm/model")},
                              "stages[1] (ppo)");
            })
                .find("stages[1] (ppo).input: \"previous\" needs an earlier "
                      "stage that trains a policy"),
            std::string::npos);
  EXPECT_NE(invalid_config([] {
              handover_config("dpo",
                              json::object(),
                              "",
                              {finished("sft", "full", "")},
                              "stages[1] (dpo)");
            }).find("stages[0] left no output to hand over"),
            std::string::npos);
  EXPECT_NE(invalid_config([] {
              handover_config("dpo",
                              {{"resume_adapter_file", "x.safetensors"}},
                              "",
                              {finished("sft", "lora", "runs/a/adapters")},
                              "stages[1] (dpo)");
            })
                .find("stages[1] (dpo).config.resume_adapter_file: the stage "
                      "continues the adapters of stages[0]"),
            std::string::npos);
}

TEST(StageTypes, AvailableExactlyWhenTheTrainerKnowsTheMethod) {
  for (const auto& t : stage_types()) {
    const bool known =
        mlxt::config::parse_choice<mlxt::config::TrainMethod>(t.method)
            .has_value();
    EXPECT_EQ(t.available, known) << t.method;
    EXPECT_EQ(t.reason.empty(), known) << t.method;
  }
  ASSERT_NE(find_stage_type("dpo"), nullptr);
  EXPECT_TRUE(find_stage_type("dpo")->available);
  EXPECT_EQ(find_stage_type("reward")->output, StageOutput::reward_model);
  EXPECT_TRUE(find_stage_type("grpo")->takes_reward_model);
  EXPECT_TRUE(template_json(*find_template("chatbot"))["available"]);
  EXPECT_FALSE(template_json(*find_template("efficient-llm"))["available"]);
}

json two_stages(json first, json second) {
  return {{"stages",
           {{{"name", "sft"},
             {"input", {{"model", "models/base"}}},
             {"config", first}},
            second}}};
}

TEST(PipelineSpec, ChecksEachStageAsItWillRunWithTheHandOver) {
  PipelineSpec spec = parse_pipeline_spec(two_stages(
      {{"data", "chat"}, {"lora_parameters", {{"rank", 4}}}},
      {{"name", "dpo"}, {"method", "dpo"}, {"config", {{"data", "prefs"}}}}));
  ASSERT_EQ(spec.stages.size(), 2u);
  EXPECT_EQ(spec.stages[1].method, "dpo");
  EXPECT_TRUE(spec.stages[1].input_model.empty());

  // config.method may repeat the stage's method, not contradict it.
  spec = parse_pipeline_spec(
      two_stages({{"data", "chat"}},
                 {{"config", {{"data", "prefs"}, {"method", "dpo"}}}}));
  EXPECT_EQ(spec.stages[1].method, "dpo");
  EXPECT_FALSE(spec.stages[1].config.contains("method"));
  std::string message = invalid_config([] {
    parse_pipeline_spec(
        two_stages({{"data", "chat"}},
                   {{"name", "x"},
                    {"method", "sft"},
                    {"config", {{"data", "prefs"}, {"method", "dpo"}}}}));
  });
  EXPECT_NE(message.find("stages[1] (x).config.method: \"dpo\" differs from "
                         "the stage's method \"sft\""),
            std::string::npos)
      << message;

  // The hand-over is checked at creation.
  message = invalid_config([] {
    parse_pipeline_spec(two_stages(
        {{"data", "chat"}},
        {{"name", "dpo"},
         {"method", "dpo"},
         {"config",
          {{"data", "prefs"}, {"resume_adapter_file", "x.safetensors"}}}}));
  });
  EXPECT_NE(message.find("stages[1] (dpo).config.resume_adapter_file"),
            std::string::npos)
      << message;
}

// Issue 19: "methd": "dpo" made an sft stage.
TEST(PipelineSpec, UnknownKeysAreRefusedNotIgnored) {
  std::string message = invalid_config([] {
    json body =
        two_stages({{"data", "chat"}}, {{"name", "x"}, {"methd", "dpo"}});
    body["stagez"] = 1;
    parse_pipeline_spec(body);
  });
  EXPECT_NE(message.find("stages[1] (x).methd: unknown key (did you mean "
                         "\"method\"?)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("stagez: unknown key"), std::string::npos) << message;
}

TEST(PipelineSpec, StagesWithoutATrainerAreRefusedWithTheReason) {
  for (const auto& t : stage_types()) {
    if (t.available) {
      continue;
    }
    std::string message = invalid_config([&] {
      parse_pipeline_spec(two_stages(
          {{"data", "chat"}},
          {{"name", "x"}, {"method", t.method}, {"config", json::object()}}));
    });
    EXPECT_NE(message.find("stages[1] (x).method: method \"" + t.method +
                           "\" is not available: no trainer for method"),
              std::string::npos)
        << message;
  }
}

} // namespace
