// The closed choices of a TrainConfig (method, fine_tune_type,
// nonfinite_policy, compute_dtype, loss_type) as enums. Each enum has one table
// of spellings, the strings that configs, the command line and the REST API
// use; the key registry parses them once, and code past it compares enums,
// never strings.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <mlx/dtype.h>

namespace mlxt::config {

//! The training method: supervised fine-tuning, Direct Preference
//! Optimization over preference pairs (train/methods/dpo.h), a reward
//! model's scalar head trained on preference pairs (train/methods/reward.h),
//! or online RL with rollouts: Group Relative Policy Optimization
//! (train/methods/grpo.h) and Proximal Policy Optimization with a value head
//! (train/methods/ppo.h).
enum class TrainMethod { sft, dpo, reward, grpo, ppo };

//! DPO's loss (train/methods/dpo_loss.h): against a reference model sigmoid
//! (DPO), ipo (IPO's squared loss), hinge (SLiC), robust (rDPO); without one
//! simpo (SimPO) and orpo (ORPO's odds ratio plus the SFT term).
enum class DpoLossType { sigmoid, ipo, hinge, robust, simpo, orpo };

//! Online RL (grpo, ppo): the built-in verifiable reward of a completion
//! against its prompt row's `answer` (train/methods/rewards.h).
enum class RewardRule { exact_match, contains, regex, length };

//! GRPO's normalisation of the summed per-token loss (TRL's loss_type):
//! per-sequence mean (grpo), over all completion tokens of the step (dapo),
//! or by a constant max_completion_length per sequence (dr_grpo).
enum class GrpoLossType { grpo, dapo, dr_grpo };

//! GRPO's advantage scaling (TRL's scale_rewards): divide by the group's
//! or the whole batch's reward standard deviation, or not at all.
enum class RewardScaling { group, batch, none };

//! What a run trains: LoRA adapters over a frozen base (QLoRA when the base
//! is quantized), or every weight.
enum class FineTuneType { lora, full };

//! A step whose loss or gradient norm is NaN/Inf is never applied; fail stops
//! the run naming the step, skip goes on (up to max_skipped_steps in a row).
enum class NonfinitePolicy { fail, skip };

//! The dtype of the forward and backward pass.
enum class ComputeDtype { float32, bfloat16, float16 };

//! The spellings of choice enum E, in the order help texts list them.
template <class E>
struct Spellings;

template <>
struct Spellings<TrainMethod> {
  static constexpr std::array<std::pair<TrainMethod, std::string_view>, 5>
      table{{{TrainMethod::sft, "sft"},
             {TrainMethod::dpo, "dpo"},
             {TrainMethod::reward, "reward"},
             {TrainMethod::grpo, "grpo"},
             {TrainMethod::ppo, "ppo"}}};
};

template <>
struct Spellings<DpoLossType> {
  static constexpr std::array<std::pair<DpoLossType, std::string_view>, 6>
      table{{{DpoLossType::sigmoid, "sigmoid"},
             {DpoLossType::ipo, "ipo"},
             {DpoLossType::hinge, "hinge"},
             {DpoLossType::robust, "robust"},
             {DpoLossType::simpo, "simpo"},
             {DpoLossType::orpo, "orpo"}}};
};

template <>
struct Spellings<RewardRule> {
  static constexpr std::array<std::pair<RewardRule, std::string_view>, 4> table{
      {{RewardRule::exact_match, "exact_match"},
       {RewardRule::contains, "contains"},
       {RewardRule::regex, "regex"},
       {RewardRule::length, "length"}}};
};

template <>
struct Spellings<GrpoLossType> {
  static constexpr std::array<std::pair<GrpoLossType, std::string_view>, 3>
      table{{{GrpoLossType::grpo, "grpo"},
             {GrpoLossType::dapo, "dapo"},
             {GrpoLossType::dr_grpo, "dr_grpo"}}};
};

template <>
struct Spellings<RewardScaling> {
  static constexpr std::array<std::pair<RewardScaling, std::string_view>, 3>
      table{{{RewardScaling::group, "group"},
             {RewardScaling::batch, "batch"},
             {RewardScaling::none, "none"}}};
};

template <>
struct Spellings<FineTuneType> {
  static constexpr std::array<std::pair<FineTuneType, std::string_view>, 2>
      table{{{FineTuneType::lora, "lora"}, {FineTuneType::full, "full"}}};
};

template <>
struct Spellings<NonfinitePolicy> {
  static constexpr std::array<std::pair<NonfinitePolicy, std::string_view>, 2>
      table{{{NonfinitePolicy::fail, "fail"}, {NonfinitePolicy::skip, "skip"}}};
};

template <>
struct Spellings<ComputeDtype> {
  static constexpr std::array<std::pair<ComputeDtype, std::string_view>, 3>
      table{{{ComputeDtype::float32, "float32"},
             {ComputeDtype::bfloat16, "bfloat16"},
             {ComputeDtype::float16, "float16"}}};
};

//! An enum with a table of spellings.
template <class E>
concept Choice = requires {
  Spellings<E>::table;
};

//! The spelling of `value`: "lora", "skip", "bfloat16".
template <Choice E>
std::string to_string(E value) {
  for (const auto& [choice, name] : Spellings<E>::table) {
    if (choice == value) {
      return std::string(name);
    }
  }
  return "?"; // every enumerator has a spelling
}

//! The choice spelled `text` (exactly), or nullopt.
template <Choice E>
std::optional<E> parse_choice(std::string_view text) {
  for (const auto& [choice, name] : Spellings<E>::table) {
    if (name == text) {
      return choice;
    }
  }
  return std::nullopt;
}

//! Every spelling of E, in table order.
template <Choice E>
std::vector<std::string> choice_names() {
  std::vector<std::string> names;
  for (const auto& entry : Spellings<E>::table) {
    names.emplace_back(entry.second);
  }
  return names;
}

//! The MLX dtype of `dtype`.
mlx::core::Dtype to_mx_dtype(ComputeDtype dtype);

} // namespace mlxt::config
