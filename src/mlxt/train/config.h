// TrainConfig: the one training-configuration schema.
//
// Read from YAML or JSON (mlx-lm's LoRA config keys are accepted as they are)
// and overridden by CLI flags (`--key value`, nested keys with dots:
// `--lora_parameters.rank 16`). Every key is declared once in a registry
// (name, type, default, allowed values or range, help) that feeds parsing,
// validation, the CLI help and, later, the REST schema. Validation reports
// every problem at once: unknown keys (with a "did you mean"), wrong types,
// out-of-range or disallowed values, each naming the key and the file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::train {

struct LoraParameters {
  int rank = 8;
  float scale = 20.0f;                     // mlx-lm's scale; PEFT alpha = scale * rank
  std::optional<float> alpha;              // if set, scale = alpha / rank
  float dropout = 0.0f;
  std::vector<std::string> keys;           // block-relative, e.g. "self_attn.q_proj"; empty = all linears
};

struct LrSchedule {
  std::string name = "constant";           // constant | cosine_decay | linear_schedule
  std::vector<double> arguments;           // mlx-lm style: [init, decay_steps, end] for cosine
  int warmup = 0;                          // linear warm-up steps
  double warmup_init = 0.0;                // learning rate at step 0 of the warm-up
};

struct TrainConfig {
  // What to train.
  std::string model;                       // model folder
  std::string data;                        // folder with train.jsonl / valid.jsonl [/ test.jsonl], or one .jsonl
  std::string fine_tune_type = "lora";     // lora | full
  int num_layers = 16;                     // LoRA on the last N blocks; -1 = all
  LoraParameters lora_parameters;
  bool mask_prompt = false;                // train only on completions / assistant turns

  // Loop.
  int batch_size = 4;
  int iters = 1000;
  int grad_accumulation_steps = 1;
  int max_seq_length = 2048;
  int seed = 0;
  bool grad_checkpoint = false;

  // Optimizer (AdamW for now; other names are rejected by validation).
  std::string optimizer = "adamw";         // adam | adamw
  double learning_rate = 1e-5;
  double weight_decay = 0.01;              // adamw only
  std::vector<double> betas = {0.9, 0.999};
  double eps = 1e-8;
  std::optional<LrSchedule> lr_schedule;
  std::optional<double> max_grad_norm;     // clip by global norm when set

  // Precision.
  std::string compute_dtype = "float32";   // float32 | bfloat16 | float16
  bool master_weights_fp32 = true;         // full FT: keep fp32 weights, compute in compute_dtype

  // Reporting, evaluation, saving.
  int steps_per_report = 10;
  int steps_per_eval = 200;
  int val_batches = 25;                    // -1 = the whole validation set
  int save_every = 100;
  std::string adapter_path = "adapters";   // where LoRA adapters / full weights are written
  std::string runs_dir = "runs";           // runs/<run_id>/metrics.jsonl
  std::string run_id;                      // empty: derived from the time
  bool test = false;                       // evaluate on test.jsonl at the end
  int test_batches = 500;
  bool progress_bar = true;                // only when stderr is a terminal

  nlohmann::json to_json() const;
};

struct ConfigOverride {
  std::string key;    // dotted key, e.g. "lora_parameters.rank"
  std::string value;  // as typed on the command line; parsed by the key's type
};

//! Reads `file` (YAML or JSON by extension; empty path = defaults only),
//! applies `overrides`, validates. Throws Error(invalid_config) whose message
//! lists every problem, one per line, each naming file and key.
TrainConfig load_train_config(
    const std::filesystem::path& file,
    const std::vector<ConfigOverride>& overrides = {});

//! The same from an already parsed JSON object (REST bodies, pipeline stages);
//! `source` names it in messages.
TrainConfig train_config_from_json(
    const nlohmann::json& object,
    const std::string& source);

//! One line per key: name, type, default, help (for `mlxt train --help-config`).
std::string describe_train_options();

} // namespace mlxt::train
