// A scalar head over a decoder's final hidden states: one linear map
// hidden -> 1 without bias, named "score" as in transformers'
// <Arch>ForSequenceClassification (LlamaForSequenceClassification, ...). A
// reward model reads it at the last non-padding token of each row
// (score_at); a PPO value head reads it at every position (score_tokens).
//
// The weight is "score.weight" (1, hidden); a model folder that carries it
// says so in config.json (architectures [<Arch>ForSequenceClassification],
// num_labels 1), so transformers loads it as a sequence classifier.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <mlx/mlx.h>
#include <nlohmann/json.hpp>

#include "mlxt/core/params.h"
#include "mlxt/models/args.h"
#include "mlxt/nn/layers.h"

namespace mlxt::models {

namespace mx = mlx::core;

//! The head's weight name, transformers' `score.weight`.
inline constexpr const char* kScoreWeight = "score.weight";

//! A fresh head (1, hidden) float32 ~ N(0, initializer_range^2), as
//! transformers' _init_weights initialises the `score` nn.Linear of
//! AutoModelForSequenceClassification (initializer_range from config.json,
//! default 0.02; TRL's RewardTrainer keeps that initialisation).
mx::array init_score_weight(const ModelArgs& args, uint64_t seed);

//! Per-token scalars: hidden (B, T, hidden) in any float dtype -> (B, T)
//! float32, computed in float32 (the head is tiny; rewards and values are
//! compared and differenced, so they keep full precision).
mx::array score_tokens(const Params& weights, const mx::array& hidden);

//! The scalar at one position per row: hidden (B, T, hidden), positions
//! (B,) int32 (the last non-padding token of right-padded rows) -> (B,)
//! float32.
mx::array
score_at(const Params& weights, const mx::array& hidden, const mx::array& at);

//! The scalar of each whole sequence: tokens (B, T) int32, right-padded;
//! last (B,) int32, each row's last non-padding position -> (B,) float32,
//! through the decoder (transformer.h) and score_at.
mx::array sequence_scores(const ModelArgs& args,
                          const Params& weights,
                          const mx::array& tokens,
                          const mx::array& last,
                          nn::ForwardContext& ctx);

//! True when config.json describes a sequence classifier (its architectures
//! name a *ForSequenceClassification class).
bool is_sequence_classifier(const nlohmann::json& config);

//! config.json of a one-label sequence classifier over `config` (a causal
//! LM's): architectures [<Arch>ForSequenceClassification], num_labels 1 with
//! its id2label/label2id, and pad_token_id (transformers finds the last
//! non-padding token by it) when given and `config` has none.
nlohmann::json sequence_classifier_config(const nlohmann::json& config,
                                          std::optional<int> pad_token_id);

} // namespace mlxt::models
