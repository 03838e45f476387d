// Reward models on disk, as reward training leaves them and `mlxt score`
// (and PPO's reward source) reads them back:
//   full fine-tuning: a model folder in transformers' sequence-classifier
//     layout: the decoder's weights plus `score.weight` (1, hidden) in the
//     model's dtype, config.json with architectures
//     [<Arch>ForSequenceClassification] and num_labels 1
//     (models/scalar_head.h), and the tokenizer files;
//   LoRA / QLoRA: the adapter folder (train/artifacts.h) plus
//     `score.safetensors` holding `score.weight` in float32, over the
//     unchanged base model.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <mlx/mlx.h>

#include "mlxt/gguf/model_source.h"

namespace mlxt::train {

//! The head file of a LoRA reward model, beside adapters.safetensors.
inline constexpr const char* kScoreHeadFile = "score.safetensors";

struct OpenedRewardModel {
  gguf::ModelWithTokenizer opened; // the decoder, without its head
  std::optional<mx::array> score;  // score.weight (1, hidden), when stored
};

//! Opens `path` as gguf::open_model does; a folder whose config.json is a
//! sequence classifier has its score.weight split off into `score` and the
//! rest checked as the decoder (Error(invalid_model) when it has none).
OpenedRewardModel open_reward_model(const std::filesystem::path& path);

//! Reads `adapter_dir`/score.safetensors: score.weight (1, hidden) float32.
//! Throws Error(not_found) when the file is missing and
//! Error(invalid_model) for a wrong name or shape.
mx::array load_score_head(const std::filesystem::path& adapter_dir,
                          int hidden_size);

//! A reward model ready to score sequences (models::sequence_scores): the
//! decoder's weights with score.weight, and a LoRA reward model's adapters
//! with their scale.
struct RewardScorer {
  gguf::ModelWithTokenizer opened;
  float lora_scale = 0.0f; // the adapters' scale; 0 without adapters
};

//! Opens what a reward run left at `path`: a full fine-tune's model folder
//! (its score.weight required), or a LoRA run's adapter folder
//! (adapters.safetensors, adapter_config.json, score.safetensors) over the
//! base its adapter_config.json names as `model`. Errors name `key` (the
//! config key that gave the path) and the file at fault.
RewardScorer load_reward_scorer(const std::filesystem::path& path,
                                const std::string& key);

//! Writes `score` (1, hidden) as `dir`/`file_name`, atomically.
void save_score_head(const std::filesystem::path& dir,
                     const std::string& file_name,
                     const mx::array& score);

} // namespace mlxt::train
