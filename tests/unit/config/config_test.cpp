// TrainConfig: mlx-lm YAML and JSON configs, overrides, the to_json round
// trip, and every error path (code and message).
#include "mlxt/config/config.h"

#include "support/test_support.h"

namespace {

using mlxt::config::ComputeDtype;
using mlxt::config::ConfigOverride;
using mlxt::config::FineTuneType;
using mlxt::config::load_train_config;
using mlxt::config::NonfinitePolicy;
using mlxt::config::train_config_from_json;
using mlxt::config::TrainConfig;
using mlxt::testing::TempDir;
using mlxt::testing::write_file;
using nlohmann::json;
using Settings = std::map<std::string, json>;

// mlx-lm's examples/lora_config.yaml, comments and all, with the optional
// blocks switched on.
const char* mlx_lm_yaml =
    R"(# The path to the local model directory or Hugging Face repo.
model: "mlx_model"

# Whether or not to train (boolean)
train: true

# The fine-tuning method: "lora", "dora", or "full".
fine_tune_type: lora

# The Optimizer with its possible inputs
optimizer: adamw
optimizer_config:
  adamw:
    betas: [0.9, 0.98]
    eps: 1e-6
    weight_decay: 0.05
    bias_correction: true

# Directory with {train, valid, test}.jsonl files
data: "/path/to/training/data"

# The PRNG seed
seed: 0

# Number of layers to fine-tune
num_layers: 16

# Minibatch size.
batch_size: 4

# Iterations to train for.
iters: 1000

# Number of validation batches, -1 uses the entire validation set.
val_batches: 25

# Adam learning rate.
learning_rate: 1e-5

# Whether to report the logs to WandB
wandb: "wandb-project"

# Number of training steps between loss reporting.
steps_per_report: 10

# Number of training steps between validations.
steps_per_eval: 200

# Load path to resume training with the given adapter weights.
resume_adapter_file: null

# Save/load path for the trained adapter weights.
adapter_path: "adapters"

# Save the model every N iterations.
save_every: 100

# Evaluate on the test set after training
test: false

# Number of test set batches, -1 uses the entire test set.
test_batches: 100

# Maximum sequence length.
max_seq_length: 2048

# Use gradient checkpointing to reduce memory use.
grad_checkpoint: false

# LoRA parameters can only be specified in a config file
lora_parameters:
  # The layer keys to apply LoRA to.
  # These will be applied for the last lora_layers
  keys: ["self_attn.q_proj", "self_attn.v_proj"]
  rank: 8
  scale: 20.0
  dropout: 0.0

# Schedule can only be specified in a config file, uncomment to use.
lr_schedule:
  name: cosine_decay
  warmup: 100 # 0 for no warmup
  warmup_init: 1e-7 # 0 if not specified
  arguments: [1e-5, 1000, 1e-7] # passed to scheduler
)";

// A minimal valid config, plus `extra` lines.
std::string minimal_yaml(const std::string& extra = "") {
  return "model: m\ndata: d\n" + extra;
}

TrainConfig load_yaml(const TempDir& dir,
                      const std::string& text,
                      const std::vector<ConfigOverride>& overrides = {}) {
  write_file(dir / "config.yaml", text);
  return load_train_config(dir / "config.yaml", overrides);
}

// The message of the mlxt::Error `statement` throws ("" if none).
template <class F>
std::string error_of(F statement) {
  try {
    statement();
  } catch (const mlxt::Error& e) {
    return e.what();
  }
  return "";
}

TEST(TrainConfig, LoadsMlxLmLoraYaml) {
  TempDir dir;
  TrainConfig c = load_yaml(dir, mlx_lm_yaml);
  EXPECT_EQ(c.model, "mlx_model");
  EXPECT_EQ(c.data, "/path/to/training/data");
  EXPECT_TRUE(c.train);
  EXPECT_EQ(c.fine_tune_type, FineTuneType::lora);
  EXPECT_EQ(c.optimizer, "adamw");
  EXPECT_EQ(c.optimizer_params.at("adamw"),
            (Settings{{"beta1", 0.9},
                      {"beta2", 0.98},
                      {"eps", 1e-6},
                      {"weight_decay", 0.05},
                      {"bias_correction", true}}));
  EXPECT_EQ(c.seed, 0);
  EXPECT_EQ(c.num_layers, 16);
  EXPECT_EQ(c.batch_size, 4);
  EXPECT_EQ(c.iters, 1000);
  EXPECT_EQ(c.val_batches, 25);
  EXPECT_DOUBLE_EQ(c.learning_rate, 1e-5); // 1e-5 without a dot is a float
  EXPECT_EQ(c.project_name, "wandb-project");
  EXPECT_EQ(c.steps_per_report, 10);
  EXPECT_EQ(c.steps_per_eval, 200);
  EXPECT_EQ(c.resume_adapter_file, ""); // null: not given
  EXPECT_EQ(c.adapter_path, "adapters");
  EXPECT_EQ(c.save_every, 100);
  EXPECT_FALSE(c.test);
  EXPECT_EQ(c.test_batches, 100);
  EXPECT_EQ(c.max_seq_length, 2048);
  EXPECT_FALSE(c.grad_checkpoint);
  EXPECT_EQ(c.lora_parameters.keys,
            (std::vector<std::string>{"self_attn.q_proj", "self_attn.v_proj"}));
  EXPECT_EQ(c.lora_parameters.rank, 8);
  EXPECT_FLOAT_EQ(c.lora_parameters.scale, 20.0f);
  EXPECT_FLOAT_EQ(c.lora_parameters.dropout, 0.0f);
  EXPECT_FALSE(c.lora_parameters.alpha.has_value());
  ASSERT_TRUE(c.lr_schedule.has_value());
  EXPECT_EQ(c.lr_schedule->name, "cosine_decay");
  EXPECT_EQ(c.lr_schedule->warmup, 100);
  EXPECT_DOUBLE_EQ(c.lr_schedule->warmup_init, 1e-7);
  EXPECT_EQ(c.lr_schedule->arguments, (std::vector<double>{1e-5, 1000, 1e-7}));
  // Untouched keys keep the defaults of config.h.
  EXPECT_EQ(c.compute_dtype, ComputeDtype::float32);
  EXPECT_FALSE(c.max_grad_norm.has_value());
}

TEST(TrainConfig, OptimizerConfigOfTheOtherOptimizerIsIgnored) {
  TempDir dir;
  TrainConfig c = load_yaml(dir,
                            minimal_yaml("optimizer: adam\n"
                                         "optimizer_config:\n"
                                         "  adam: {betas: [0.8, 0.9]}\n"
                                         "  adamw: {eps: 0.5}\n"));
  EXPECT_EQ(c.optimizer_params.at("adam"),
            (Settings{{"beta1", 0.8},
                      {"beta2", 0.9},
                      {"eps", 1e-8},
                      {"bias_correction", false}}));
}

TEST(TrainConfig, LoadsTheJsonEquivalent) {
  TempDir dir;
  write_file(dir / "config.json", R"({
    "model": "mlx_model",
    "data": "/data",
    "fine_tune_type": "full",
    "optimizer": "adam",
    "learning_rate": 2e-4,
    "lora_parameters": {"rank": 16, "alpha": 32, "keys": ["mlp.down_proj"]},
    "lr_schedule": {"name": "linear_schedule", "arguments": [1e-4, 0, 500]},
    "max_grad_norm": 1.0,
    "compute_dtype": "bfloat16",
    "num_layers": -1
  })");
  TrainConfig c = load_train_config(dir / "config.json");
  EXPECT_EQ(c.model, "mlx_model");
  EXPECT_EQ(c.fine_tune_type, FineTuneType::full);
  EXPECT_EQ(c.optimizer, "adam");
  EXPECT_DOUBLE_EQ(c.learning_rate, 2e-4);
  EXPECT_EQ(c.lora_parameters.rank, 16);
  ASSERT_TRUE(c.lora_parameters.alpha.has_value());
  EXPECT_FLOAT_EQ(c.lora_parameters.scale, 2.0f); // alpha / rank
  EXPECT_EQ(c.lora_parameters.keys,
            (std::vector<std::string>{"mlp.down_proj"}));
  ASSERT_TRUE(c.lr_schedule.has_value());
  EXPECT_EQ(c.lr_schedule->name, "linear_schedule");
  EXPECT_EQ(c.max_grad_norm, 1.0);
  EXPECT_EQ(c.compute_dtype, ComputeDtype::bfloat16);
  EXPECT_EQ(c.num_layers, -1);
}

TEST(TrainConfig, OverridesParseByTheKeysType) {
  TempDir dir;
  TrainConfig c =
      load_yaml(dir,
                mlx_lm_yaml,
                {{"lora_parameters.rank", "16"},
                 {"learning_rate", "3e-4"},
                 {"grad-checkpoint", "true"}, // '-' reads as '_'
                 {"lora_parameters.keys", "self_attn.k_proj, mlp.up_proj"},
                 {"lr_schedule.arguments", "[1e-4, 50]"},
                 {"betas", "0.9,0.95"}, // replaces optimizer_config.adamw.betas
                 {"max_grad_norm", "0.5"},
                 {"model", "other_model"}});
  EXPECT_EQ(c.lora_parameters.rank, 16);
  EXPECT_DOUBLE_EQ(c.learning_rate, 3e-4);
  EXPECT_TRUE(c.grad_checkpoint);
  EXPECT_EQ(c.lora_parameters.keys,
            (std::vector<std::string>{"self_attn.k_proj", "mlp.up_proj"}));
  EXPECT_EQ(c.lr_schedule->arguments, (std::vector<double>{1e-4, 50}));
  EXPECT_EQ(c.optimizer_params.at("adamw").at("beta1"), 0.9);
  EXPECT_EQ(c.optimizer_params.at("adamw").at("beta2"), 0.95);
  // The rest of optimizer_config still applies.
  EXPECT_EQ(c.optimizer_params.at("adamw").at("eps"), 1e-6);
  EXPECT_EQ(c.max_grad_norm, 0.5);
  EXPECT_EQ(c.model, "other_model");
}

TEST(TrainConfig, OverridesAloneNeedNoFile) {
  TrainConfig c = load_train_config(
      "", {{"model", "m"}, {"data", "d"}, {"lr_schedule", "null"}});
  EXPECT_EQ(c.model, "m");
  EXPECT_EQ(c.batch_size, TrainConfig{}.batch_size);
  EXPECT_FALSE(c.lr_schedule.has_value());
}

TEST(TrainConfig, ToJsonRoundTripsExactly) {
  TempDir dir;
  TrainConfig c =
      load_yaml(dir,
                mlx_lm_yaml,
                {{"lora_parameters.alpha", "12"}, // replaces the file's scale
                 {"lora_parameters.dropout", "0.05"},
                 {"max_grad_norm", "0.3"},
                 {"run_id", "exp-1"}});
  EXPECT_FLOAT_EQ(c.lora_parameters.scale, 1.5f);
  json saved = c.to_json();
  EXPECT_EQ(saved["lora_parameters"]["rank"], 8);
  EXPECT_EQ(saved["lr_schedule"]["name"], "cosine_decay");
  // adamw's settings are written in its block, never under an alias.
  EXPECT_EQ(saved["optimizer_config"],
            json({{"adamw",
                   {{"beta1", 0.9},
                    {"beta2", 0.98},
                    {"eps", 1e-6},
                    {"weight_decay", 0.05},
                    {"bias_correction", true}}}}));
  EXPECT_FALSE(saved.contains("betas"));
  EXPECT_FALSE(saved.contains("wandb"));
  EXPECT_EQ(train_config_from_json(saved, "saved"), c);
  // Through text, as a run folder stores it.
  EXPECT_EQ(train_config_from_json(json::parse(saved.dump(2)), "saved"), c);

  // Unset optionals are written as null and read back unset.
  TrainConfig plain = load_yaml(dir, minimal_yaml());
  json plain_saved = plain.to_json();
  EXPECT_TRUE(plain_saved["lr_schedule"].is_null());
  EXPECT_TRUE(plain_saved["max_grad_norm"].is_null());
  EXPECT_EQ(train_config_from_json(plain_saved, "saved"), plain);
}

TEST(TrainConfig, ChoicesAreEnumsSpelledAsBefore) {
  TempDir dir;
  TrainConfig c = load_yaml(dir,
                            minimal_yaml("fine_tune_type: full\n"
                                         "nonfinite_policy: skip\n"
                                         "compute_dtype: float16\n"));
  EXPECT_EQ(c.fine_tune_type, FineTuneType::full);
  EXPECT_EQ(c.nonfinite_policy, NonfinitePolicy::skip);
  EXPECT_EQ(c.compute_dtype, ComputeDtype::float16);
  json saved = c.to_json();
  EXPECT_EQ(saved["fine_tune_type"], "full");
  EXPECT_EQ(saved["nonfinite_policy"], "skip");
  EXPECT_EQ(saved["compute_dtype"], "float16");
  TrainConfig overridden =
      load_yaml(dir, minimal_yaml(), {{"compute_dtype", "bfloat16"}});
  EXPECT_EQ(overridden.compute_dtype, ComputeDtype::bfloat16);
  EXPECT_EQ(TrainConfig{}.nonfinite_policy, NonfinitePolicy::fail);
}

TEST(TrainConfig, MethodAndDpoKeysParseAsChoicesAndRoundTrip) {
  using mlxt::config::DpoLossType;
  using mlxt::config::TrainMethod;
  TempDir dir;
  EXPECT_EQ(TrainConfig{}.method, TrainMethod::sft);
  TrainConfig c = load_yaml(dir,
                            minimal_yaml("method: dpo\n"
                                         "beta: 0.5\n"
                                         "label_smoothing: 0.1\n"
                                         "loss_type: ipo\n"));
  EXPECT_EQ(c.method, TrainMethod::dpo);
  EXPECT_EQ(c.beta, 0.5);
  EXPECT_EQ(c.label_smoothing, 0.1);
  EXPECT_EQ(c.loss_type, DpoLossType::ipo);
  json saved = c.to_json();
  EXPECT_EQ(saved["method"], "dpo");
  EXPECT_EQ(saved["loss_type"], "ipo");
  EXPECT_EQ(train_config_from_json(saved, "saved"), c);
  std::string message = error_of([&] {
    load_yaml(dir, minimal_yaml("loss_type: kto\nlabel_smoothing: 0.5\n"));
  });
  EXPECT_NE(message.find("loss_type"), std::string::npos) << message;
  EXPECT_NE(message.find("hinge"), std::string::npos) << message;
  EXPECT_NE(message.find("label_smoothing"), std::string::npos) << message;
}

TEST(ConfigChoices, EverySpellingParsesBackAndDtypesMapToMlx) {
  using mlxt::config::choice_names;
  using mlxt::config::parse_choice;
  for (const auto& name : choice_names<FineTuneType>()) {
    EXPECT_EQ(to_string(parse_choice<FineTuneType>(name).value()), name);
  }
  for (const auto& name : choice_names<NonfinitePolicy>()) {
    EXPECT_EQ(to_string(parse_choice<NonfinitePolicy>(name).value()), name);
  }
  EXPECT_EQ(choice_names<ComputeDtype>(),
            (std::vector<std::string>{"float32", "bfloat16", "float16"}));
  EXPECT_FALSE(parse_choice<FineTuneType>("dora").has_value());
  EXPECT_FALSE(parse_choice<ComputeDtype>("Float32").has_value());
  EXPECT_EQ(mlxt::config::to_mx_dtype(ComputeDtype::float32),
            mlx::core::float32);
  EXPECT_EQ(mlxt::config::to_mx_dtype(ComputeDtype::bfloat16),
            mlx::core::bfloat16);
  EXPECT_EQ(mlxt::config::to_mx_dtype(ComputeDtype::float16),
            mlx::core::float16);
}

TEST(TrainConfig, DescribeListsEveryKeyWithTypeDefaultAndHelp) {
  std::string text = mlxt::config::describe_train_options();
  EXPECT_NE(text.find("lora_parameters.rank (int, default 8): LoRA rank"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("model (string, required)"), std::string::npos);
  EXPECT_NE(text.find("compute_dtype (string, default \"float32\")"),
            std::string::npos);
  EXPECT_NE(text.find("one of: float32, bfloat16, float16"), std::string::npos);
  EXPECT_NE(text.find("max_grad_norm (float, default none)"),
            std::string::npos);
  EXPECT_NE(text.find("optimizer_config.adamw.betas"), std::string::npos);
  EXPECT_NE(text.find("optimizer_config.adamw.beta2 (float, default 0.999): "
                      "second-moment decay (adamw) [in [0, 1)]"),
            std::string::npos);
  EXPECT_NE(text.find("optimizer_config.adam.eps (float, default 1e-08)"),
            std::string::npos);
  EXPECT_NE(text.find("betas (float list): same as "
                      "[optimizer_config.<optimizer>.beta1, "
                      "optimizer_config.<optimizer>.beta2] when optimizer is "
                      "adam or adamw"),
            std::string::npos);
}

TEST(TrainConfig, TopLevelAdamSettingsSetTheChosenAdamBlock) {
  TempDir dir;
  TrainConfig adam = load_yaml(dir,
                               minimal_yaml("optimizer: adam\n"
                                            "betas: [0.8, 0.9]\n"
                                            "eps: 1e-7\n"
                                            "weight_decay: 0.2\n"));
  // adam has no weight decay: that key is for adamw.
  EXPECT_EQ(adam.optimizer_params.at("adam"),
            (Settings{{"beta1", 0.8},
                      {"beta2", 0.9},
                      {"eps", 1e-7},
                      {"bias_correction", false}}));
  EXPECT_FALSE(adam.optimizer_params.contains("adamw"));

  // Another optimizer ignores them and gets its catalogue defaults.
  TrainConfig sgd =
      load_yaml(dir, minimal_yaml("optimizer: sgd\nbetas: [0.8, 0.9]\n"));
  EXPECT_EQ(sgd.optimizer_params.size(), 1u);
  EXPECT_EQ(sgd.optimizer_params.at("sgd").at("momentum"), 0.0);
  EXPECT_EQ(sgd.optimizer_params.at("sgd").size(), 4u);
}

TEST(TrainConfig, CommandLineSettingBeatsTheFilesOtherSpelling) {
  TempDir dir;
  TrainConfig c = load_yaml(dir,
                            minimal_yaml("betas: [0.8, 0.95]\n"),
                            {{"optimizer_config.adamw.beta1", "0.7"}});
  EXPECT_EQ(c.optimizer_params.at("adamw").at("beta1"), 0.7);
  EXPECT_EQ(c.optimizer_params.at("adamw").at("beta2"), 0.95);
  // And the other way round: --betas replaces the file's adamw.beta2.
  c = load_yaml(dir,
                minimal_yaml("optimizer_config:\n  adamw: {beta2: 0.9}\n"),
                {{"betas", "0.6,0.7"}});
  EXPECT_EQ(c.optimizer_params.at("adamw").at("beta1"), 0.6);
  EXPECT_EQ(c.optimizer_params.at("adamw").at("beta2"), 0.7);
}

// A checkpoint's config.json from before Adam's settings moved into
// optimizer_config still loads (as `mlxt train --resume` reads it), to the
// config the new layout gives.
TEST(TrainConfig, EarlierResolvedLayoutWithTopLevelAdamSettingsLoads) {
  const auto file = mlxt::testing::source_dir() / "tests" / "fixtures" /
                    "config" / "resolved_before_optimizer_config.json";
  TrainConfig c = load_train_config(file, {{"iters", "10"}});
  EXPECT_EQ(c.optimizer_params.at("adamw"),
            (Settings{{"beta1", 0.8},
                      {"beta2", 0.95},
                      {"eps", 1e-6},
                      {"weight_decay", 0.05},
                      {"bias_correction", true}}));
  EXPECT_EQ(c.iters, 10);
  json saved = c.to_json();
  for (const char* old_key :
       {"betas", "eps", "weight_decay", "bias_correction"}) {
    EXPECT_FALSE(saved.contains(old_key)) << old_key;
  }
  EXPECT_EQ(train_config_from_json(saved, "saved"), c);
}

TEST(TrainConfigErrors, UnknownKeySuggestsTheClosest) {
  TempDir dir;
  EXPECT_MLXT_ERROR(
      load_yaml(dir, minimal_yaml("lora_parameters:\n  rnak: 4\n")),
      invalid_config,
      "config.yaml:4: lora_parameters.rnak: unknown key; did you mean "
      "'lora_parameters.rank'?");
  EXPECT_MLXT_ERROR(load_yaml(dir, minimal_yaml("learning_rat: 0.1\n")),
                    invalid_config,
                    "did you mean 'learning_rate'?");
  // The right name in the wrong place.
  EXPECT_MLXT_ERROR(load_yaml(dir, minimal_yaml("rank: 4\n")),
                    invalid_config,
                    "rank: unknown key; did you mean 'lora_parameters.rank'?");
  std::string far = error_of([&] {
    load_yaml(dir, minimal_yaml("completely_unrelated_setting: 1\n"));
  });
  EXPECT_NE(far.find("unknown key"), std::string::npos) << far;
  EXPECT_EQ(far.find("did you mean"), std::string::npos) << far;
}

TEST(TrainConfigErrors, WrongTypeNamesFileAndLine) {
  TempDir dir;
  std::string path = (dir / "config.yaml").string();
  EXPECT_MLXT_ERROR(
      load_yaml(dir, minimal_yaml("lora_parameters:\n  rank: abc\n")),
      invalid_config,
      path + ":4: lora_parameters.rank: expected an integer, got \"abc\"");
  EXPECT_MLXT_ERROR(load_yaml(dir, minimal_yaml("mask_prompt: 3\n")),
                    invalid_config,
                    ":3: mask_prompt: expected true or false, got 3");
  EXPECT_MLXT_ERROR(load_yaml(dir, minimal_yaml("batch_size: 2.5\n")),
                    invalid_config,
                    "batch_size: expected an integer, got 2.5");
  EXPECT_MLXT_ERROR(load_yaml(dir, minimal_yaml("learning_rate: \"1e-5\"\n")),
                    invalid_config,
                    "learning_rate: expected a number, got \"1e-5\"");
  EXPECT_MLXT_ERROR(
      load_yaml(dir,
                minimal_yaml("lora_parameters:\n  keys:\n    - a\n    - 3\n")),
      invalid_config,
      ":6: lora_parameters.keys[1]: expected a string, got 3");
  EXPECT_MLXT_ERROR(load_yaml(dir, minimal_yaml("lora_parameters: 5\n")),
                    invalid_config,
                    "lora_parameters: expected a mapping of keys, got 5");
}

TEST(TrainConfigErrors, OutOfRange) {
  TempDir dir;
  EXPECT_MLXT_ERROR(load_yaml(dir, minimal_yaml("batch_size: 0\n")),
                    invalid_config,
                    "batch_size: must be >= 1, got 0");
  EXPECT_MLXT_ERROR(
      load_yaml(dir, minimal_yaml("lora_parameters:\n  dropout: 1.0\n")),
      invalid_config,
      "lora_parameters.dropout: must be in [0, 1), got 1");
  EXPECT_MLXT_ERROR(load_yaml(dir, minimal_yaml("num_layers: 0\n")),
                    invalid_config,
                    "num_layers: must be >= 1 (or -1: all blocks), got 0");
  EXPECT_MLXT_ERROR(load_yaml(dir, minimal_yaml("learning_rate: 0\n")),
                    invalid_config,
                    "learning_rate: must be > 0, got 0");
  EXPECT_MLXT_ERROR(load_yaml(dir, minimal_yaml("learning_rate: .inf\n")),
                    invalid_config,
                    "learning_rate: expected a finite number, got inf");
  EXPECT_MLXT_ERROR(load_yaml(dir, minimal_yaml("betas: [0.9]\n")),
                    invalid_config,
                    "betas: expected 2 values, got 1");
  EXPECT_MLXT_ERROR(load_yaml(dir, minimal_yaml("run_id: ../escape\n")),
                    invalid_config,
                    "run_id: may use only letters");
}

TEST(TrainConfigErrors, BadEnumListsTheAllowedValues) {
  TempDir dir;
  EXPECT_MLXT_ERROR(
      load_yaml(dir, minimal_yaml("compute_dtype: fp16\n")),
      invalid_config,
      "compute_dtype: must be one of: float32, bfloat16, float16, got "
      "\"fp16\"");
  EXPECT_MLXT_ERROR(
      load_yaml(dir, minimal_yaml("lr_schedule:\n  name: cosine\n")),
      invalid_config,
      "one of: constant, linear_schedule, cosine_decay, exponential_decay, "
      "step_decay, polynomial_decay, got \"cosine\"; did you mean "
      "'cosine_decay'?");
}

TEST(TrainConfigErrors, DoraIsRecognisedButUnsupported) {
  TempDir dir;
  EXPECT_MLXT_ERROR(
      load_yaml(dir, minimal_yaml("fine_tune_type: dora\n")),
      unsupported,
      "fine_tune_type: \"dora\" is not supported yet; use one of: lora, full");
}

TEST(TrainConfigErrors, ScheduleArgumentsMustFitTheSchedule) {
  TempDir dir;
  EXPECT_MLXT_ERROR(
      load_yaml(dir,
                minimal_yaml("lr_schedule:\n  name: cosine_decay\n"
                             "  arguments: [1e-5]\n")),
      invalid_config,
      "lr_schedule.arguments: cosine_decay takes 2 to 3 arguments [init, "
      "steps, end], got 1");
  EXPECT_MLXT_ERROR(
      load_yaml(dir,
                minimal_yaml("lr_schedule:\n  name: linear_schedule\n"
                             "  arguments: [1e-5, 0, 2.5]\n")),
      invalid_config,
      "lr_schedule.arguments[2]: steps must be a whole number >= 1, got 2.5");
}

TEST(TrainConfig, CatalogueOptimizersTakeTheirSettingsFromOptimizerConfig) {
  TempDir dir;
  TrainConfig c = load_yaml(dir,
                            minimal_yaml("optimizer: sgd\n"
                                         "optimizer_config:\n"
                                         "  sgd:\n"
                                         "    momentum: 0.9\n"
                                         "    nesterov: true\n"
                                         "lr_schedule:\n"
                                         "  name: polynomial_decay\n"
                                         "  arguments: [1e-3, 0, 100, 2]\n"));
  EXPECT_EQ(c.optimizer, "sgd");
  EXPECT_EQ(c.optimizer_params.at("sgd").at("momentum"), 0.9);
  EXPECT_EQ(c.optimizer_params.at("sgd").at("nesterov"), true);
  EXPECT_EQ(train_config_from_json(c.to_json(), "round trip"), c);
  EXPECT_MLXT_ERROR(
      load_yaml(dir,
                minimal_yaml("optimizer: lion\noptimizer_config:\n"
                             "  lion:\n    beta_1: 0.9\n")),
      invalid_config,
      "optimizer_config.lion.beta_1: unknown key; did you mean "
      "'optimizer_config.lion.beta1'?");
  EXPECT_MLXT_ERROR(
      load_yaml(dir,
                minimal_yaml("optimizer: adafactor\noptimizer_config:\n"
                             "  adafactor:\n    decay_rate: 0.5\n")),
      invalid_config,
      "optimizer_config.adafactor.decay_rate: must be");
}

TEST(TrainConfig, ParamGroupsAreKeptAsGivenAndTheirMembersChecked) {
  TempDir dir;
  TrainConfig c =
      load_yaml(dir,
                minimal_yaml("param_groups:\n"
                             "  weight_decay_exclude: [bias, norm]\n"
                             "  groups:\n"
                             "    - {name: b, match: [lora_b], "
                             "lr_scale: 4}\n"));
  EXPECT_EQ(c.param_groups["weight_decay_exclude"][1], "norm");
  EXPECT_EQ(c.param_groups["groups"][0]["lr_scale"], 4);
  EXPECT_EQ(train_config_from_json(c.to_json(), "round trip"), c);
  EXPECT_MLXT_ERROR(
      load_yaml(dir, minimal_yaml("param_groups:\n  exclude: [bias]\n")),
      invalid_config,
      "param_groups: unknown member 'exclude'");
}

TEST(TrainConfigErrors, SameSettingTwiceAndAlphaScaleConflict) {
  TempDir dir;
  EXPECT_MLXT_ERROR(
      load_yaml(dir,
                minimal_yaml(
                    "eps: 1e-8\noptimizer_config:\n  adamw:\n    eps: 1e-6\n")),
      invalid_config,
      ":6: optimizer_config.adamw.eps: sets the same option as 'eps'");
  EXPECT_MLXT_ERROR(
      load_yaml(dir,
                minimal_yaml("betas: [0.8, 0.9]\noptimizer_config:\n"
                             "  adamw: {betas: [0.7, 0.9]}\n")),
      invalid_config,
      ":3: betas: sets the same option as 'optimizer_config.adamw.betas'; "
      "keep one of them");
  EXPECT_MLXT_ERROR(
      load_yaml(
          dir,
          minimal_yaml("lora_parameters: {rank: 8, alpha: 16, scale: 20}\n")),
      invalid_config,
      "lora_parameters.scale: conflicts with alpha: alpha / rank = 2");
}

TEST(TrainConfigErrors, ReportsEveryProblemAtOnce) {
  TempDir dir;
  std::string message = error_of([&] {
    load_yaml(dir,
              "data: d\n"
              "batch_size: 0\n"
              "optimizer: sgdd\n"
              "lora_parameters:\n"
              "  rank: x\n"
              "  dropuot: 0.1\n",
              {{"iters", "many"}, {"itres", "3"}});
  });
  EXPECT_NE(message.find("7 problems:"), std::string::npos) << message;
  for (const char* part : {
           ":2: batch_size: must be >= 1, got 0",
           ":3: optimizer: must be one of: adam, adamw, sgd, lion, adafactor, "
           "lamb, novograd, got \"sgdd\"; did you mean 'sgd'?",
           ":5: lora_parameters.rank: expected an integer, got \"x\"",
           ":6: lora_parameters.dropuot: unknown key; did you mean "
           "'lora_parameters.dropout'?",
           "model: required but not given",
           "command line: iters: expected an integer, got \"many\"",
           "command line: itres: unknown key; did you mean 'iters'?",
       }) {
    EXPECT_NE(message.find(part), std::string::npos)
        << "missing: " << part << "\nin: " << message;
  }
  // One problem per line, in file order.
  EXPECT_LT(message.find(":2: batch_size"),
            message.find(":5: lora_parameters"));
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 7);
}

TEST(TrainConfigErrors, MissingRequiredKeys) {
  EXPECT_MLXT_ERROR(train_config_from_json(json{{"data", "d"}}, "request body"),
                    invalid_config,
                    "request body: model: required but not given");
  EXPECT_MLXT_ERROR(train_config_from_json(json::array(), "request body"),
                    invalid_config,
                    "expected a JSON object");
}

TEST(TrainConfigErrors, MalformedFiles) {
  TempDir dir;
  // The third line of the mapping is indented one space too far.
  write_file(dir / "bad.yaml",
             "model: m\ndata: d\nlora_parameters:\n  rank: 1\n   dropout: 2\n");
  EXPECT_MLXT_ERROR(load_train_config(dir / "bad.yaml"),
                    invalid_config,
                    "bad.yaml:5: malformed YAML");

  write_file(dir / "twice.yaml", "model: m\ndata: d\nmodel: n\n");
  EXPECT_MLXT_ERROR(load_train_config(dir / "twice.yaml"),
                    invalid_config,
                    "twice.yaml:3: model: given twice (first on line 1)");

  write_file(dir / "bad.json", "{\n  \"model\": \"m\",\n  \"data\": \n}\n");
  EXPECT_MLXT_ERROR(load_train_config(dir / "bad.json"),
                    invalid_config,
                    "bad.json:4: malformed JSON");

  write_file(dir / "list.yaml", "- model\n- data\n");
  EXPECT_MLXT_ERROR(load_train_config(dir / "list.yaml"),
                    invalid_config,
                    "expected a mapping of keys at the top level");

  write_file(dir / "config.toml", "model = 'm'\n");
  EXPECT_MLXT_ERROR(load_train_config(dir / "config.toml"),
                    invalid_config,
                    "unknown config file type '.toml'");
}

TEST(TrainConfigErrors, MissingFileIsNotFound) {
  TempDir dir;
  EXPECT_MLXT_ERROR(load_train_config(dir / "absent.yaml"),
                    not_found,
                    "absent.yaml: config file not found");
}

TEST(TrainConfigErrors, BadOverrides) {
  TempDir dir;
  EXPECT_MLXT_ERROR(
      load_yaml(dir, minimal_yaml(), {{"lora_parameters.rnak", "4"}}),
      invalid_config,
      "command line: lora_parameters.rnak: unknown key; did you mean "
      "'lora_parameters.rank'?");
  EXPECT_MLXT_ERROR(
      load_yaml(dir, minimal_yaml(), {{"grad_checkpoint", "maybe"}}),
      invalid_config,
      "command line: grad_checkpoint: expected true or false, got \"maybe\"");
  EXPECT_MLXT_ERROR(
      load_yaml(dir, minimal_yaml(), {{"betas", "0.9,x"}}),
      invalid_config,
      "betas: expected a comma-separated list or a JSON array of numbers");
  // Parsed overrides obey the same rules as file values.
  EXPECT_MLXT_ERROR(
      load_yaml(dir, minimal_yaml(), {{"lora_parameters.rank", "0"}}),
      invalid_config,
      "command line: lora_parameters.rank: must be >= 1, got 0");
}

} // namespace
