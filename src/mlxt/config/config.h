// TrainConfig: the one training-configuration schema.
//
// Read from YAML or JSON (mlx-lm's LoRA config keys are accepted as they are)
// and overridden by CLI flags (`--key value`, nested keys with dots:
// `--lora_parameters.rank 16`). Every key is declared once in a registry
// (name, type, default, allowed values or range, help) that feeds parsing,
// validation, the CLI help and, later, the REST schema. Validation reports
// every problem at once: unknown keys (with a "did you mean"), wrong types,
// out-of-range or disallowed values, each naming the key and the file.
//
// Null values (`key: null`, `key:`) mean "not given": the default applies.
// Each optimizer's settings live under optimizer_config.<name> (mlx-lm's
// blocks), typed by the optimizer catalogue; Adam's may also be given at the
// top level (betas / eps / weight_decay / bias_correction, as earlier
// resolved configs wrote them) or as mlx-lm's optimizer_config.<adam|adamw>.
// betas list. Giving one setting twice in one place is an error; a
// command-line override replaces every spelling of its setting.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/config/choices.h"

namespace mlxt::config {

struct LoraParameters {
  int rank = 8;
  float scale = 20.0f;        // mlx-lm's scale; PEFT alpha = scale * rank
  std::optional<float> alpha; // if set, scale = alpha / rank
  float dropout = 0.0f;
  // Block-relative, e.g. "self_attn.q_proj"; empty = all linears.
  std::vector<std::string> keys;

  bool operator==(const LoraParameters&) const = default;
};

struct LrSchedule {
  // constant | cosine_decay | linear_schedule | exponential_decay | step_decay
  std::string name = "constant";
  // mlx-lm style, in the order of mlx.optimizers' functions:
  //   constant [value] (none: learning_rate), cosine_decay [init, decay_steps,
  //   end=0], linear_schedule [init, end, steps], exponential_decay [init,
  //   decay_rate], step_decay [init, decay_rate, step_size]
  std::vector<double> arguments;
  int warmup = 0;           // linear warm-up steps
  double warmup_init = 0.0; // learning rate at step 0 of the warm-up

  bool operator==(const LrSchedule&) const = default;
};

struct TrainConfig {
  // What to train.
  TrainMethod method = TrainMethod::sft;
  std::string model; // model folder
  // Folder with train.jsonl / valid.jsonl [/ test.jsonl], or one .jsonl.
  std::string data;
  FineTuneType fine_tune_type = FineTuneType::lora;
  int num_layers = 16; // LoRA on the last N blocks; -1 = all
  LoraParameters lora_parameters;
  bool mask_prompt = false;    // train only on completions / assistant turns
  bool pack_sequences = false; // several examples per row (data/packing.h)
  // Encoded-dataset cache (data/encoded_cache.h): "" = <runs_dir>/.cache/
  // encoded, "none" = encode in memory every run, else a folder.
  std::string data_cache;
  // Read training examples one cached shard at a time (data/shard_stream.h).
  bool streaming = false;
  int data_shard_tokens = 1 << 24; // tokens per cache shard

  // DPO (method: dpo): reward scale beta, conservative-DPO label smoothing,
  // the loss, SimPO's target margin, the reference model (a folder or GGUF;
  // empty: the base without adapters for LoRA, a frozen copy of the starting
  // weights for full fine-tuning) and whether its log-probs are computed
  // once before training and cached.
  double beta = 0.1;
  double label_smoothing = 0.0;
  DpoLossType loss_type = DpoLossType::sigmoid;
  double simpo_gamma = 0.5;
  std::string ref_model;
  bool precompute_ref_log_probs = false;

  // Reward model (method: reward): weight of TRL's centring term
  // c (r_chosen + r_rejected)^2; 0: none.
  double center_rewards_coefficient = 0.0;

  // Online RL (methods grpo, ppo): rollouts sampled from the policy, scored
  // by a verifiable reward over each prompt row's answer or by a reward
  // model (a folder `method: reward` wrote); the KL to the adapter-free
  // reference; GRPO's group size, clipping and loss normalisation.
  int num_generations = 8;         // grpo: completions per prompt (a group)
  int max_completion_length = 256; // new tokens per completion
  double temperature = 1.0;
  double top_p = 1.0;
  RewardRule reward = RewardRule::exact_match;
  std::string reward_model;           // non-empty: rewards from this model
  double kl_coef = 0.04;              // GRPO's beta; PPO's initial KL weight
  double epsilon = 0.2;               // clip ratio to [1-eps, 1+eps_hi]
  std::optional<double> epsilon_high; // unset: epsilon (grpo)
  RewardScaling scale_rewards = RewardScaling::group;
  GrpoLossType grpo_loss_type = GrpoLossType::dapo;

  // PPO (method: ppo): optimizer steps per rollout batch (TRL's
  // num_ppo_epochs), GAE's discount and lambda, the value loss's clip and
  // weight, and the adaptive KL controller's target and horizon (unset
  // target: kl_coef stays fixed).
  int ppo_epochs = 4;
  double gamma = 1.0;
  double lam = 0.95;
  double cliprange_value = 0.2;
  double vf_coef = 0.1;
  std::optional<double> kl_target;
  double kl_horizon = 10000.0;

  // Loop.
  int batch_size = 4;
  int iters = 1000;
  int grad_accumulation_steps = 1;
  int max_seq_length = 2048;
  int seed = 0;
  bool grad_checkpoint = false;
  bool train = true; // mlx-lm's `train`: false = only evaluate (`test`)

  // Optimizer: any name in the optimizer catalogue (optim/catalogue.h), or
  // adam (adamw without weight decay).
  std::string optimizer = "adamw";
  double learning_rate = 1e-5;
  // Optimizer settings, by optimizer name then parameter name
  // (optimizer_config.<name>.<param>). A resolved config holds every
  // setting of the chosen optimizer, the catalogue's defaults filled in.
  std::map<std::string, std::map<std::string, nlohmann::json>> optimizer_params;
  // Per-parameter-group settings (optim/param_groups.h): weight-decay
  // exclusions and groups with their own learning rate or optimizer
  // parameters. Null: one group.
  nlohmann::json param_groups;
  std::optional<LrSchedule> lr_schedule;
  std::optional<double> max_grad_norm; // clip by global norm when set

  // A step whose loss or gradient norm is NaN or infinite is never applied.
  // fail: stop the run naming the step; skip: go on, unless more than
  // max_skipped_steps steps in a row were skipped.
  NonfinitePolicy nonfinite_policy = NonfinitePolicy::fail;
  int max_skipped_steps = 10;

  // Precision.
  ComputeDtype compute_dtype = ComputeDtype::float32;
  // Full fine-tuning: keep fp32 weights, compute in compute_dtype.
  bool master_weights_fp32 = true;

  // Reporting, evaluation, saving.
  int steps_per_report = 10;
  int steps_per_eval = 200;
  int val_batches = 25; // -1 = the whole validation set
  int save_every = 100; // also the checkpoint interval
  // Checkpoints (runs/<id>/checkpoints/): the newest keep_checkpoints
  // complete ones are kept, plus the one with the best validation loss.
  int keep_checkpoints = 2;
  bool keep_best_checkpoint = true;
  // Where LoRA adapters / full weights are written.
  std::string adapter_path = "adapters";
  std::string resume_adapter_file; // adapters to start from; empty = fresh
  std::string runs_dir = "runs";   // runs/<run_id>/metrics.jsonl
  std::string run_id;              // empty: derived from the time
  bool test = false;               // evaluate on test.jsonl at the end
  int test_batches = 500;
  bool progress_bar = true; // only when stderr is a terminal
  // mlx-lm's experiment-tracker keys, kept in the resolved config; mlx-train
  // sends nothing to external services (metrics go to runs/<id>/).
  std::string report_to;    // e.g. "wandb"
  std::string project_name; // mlx-lm's `wandb: <project>` lands here too

  //! The resolved configuration, every setting under its own key (never an
  //! alias);
  //! train_config_from_json(to_json()) gives back an equal config.
  nlohmann::json to_json() const;

  bool operator==(const TrainConfig&) const = default;
};

struct ConfigOverride {
  // Dotted key, e.g. "lora_parameters.rank" ('-' reads as '_').
  std::string key;
  // As typed on the command line; parsed by the key's type ("null": default).
  std::string value;
};

//! Reads `file` (YAML or JSON by extension; empty path = defaults only),
//! applies `overrides`, validates. Throws Error(invalid_config) whose message
//! lists every problem, one per line, each naming file and key
//! (Error(unsupported) when every problem is a recognised but unsupported
//! value, Error(not_found) for a missing file). `model` and `data` are
//! required.
TrainConfig
load_train_config(const std::filesystem::path& file,
                  const std::vector<ConfigOverride>& overrides = {});

//! The same from an already parsed JSON object (REST bodies, pipeline stages);
//! `source` names it in messages.
TrainConfig train_config_from_json(const nlohmann::json& object,
                                   const std::string& source);

//! One line per key: name, type, default, help (for `mlxt train
//! --help-config`).
std::string describe_train_options();

} // namespace mlxt::config
