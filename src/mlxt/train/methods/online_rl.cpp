#include "mlxt/train/methods/online_rl.h"

#include <algorithm>

#include "mlxt/core/error.h"
#include "mlxt/data/batching.h"
#include "mlxt/train/methods/dpo_reference.h"
#include "mlxt/train/methods/model_reward.h"
#include "mlxt/train/methods/rollout.h"
#include "mlxt/train/trained_model.h"

namespace mlxt::train {

void check_online_rl(const config::TrainConfig& c, const std::string& method) {
  refuse_packing_and_streaming(c, method, "trains on its own rollouts");
  if (c.max_completion_length >= c.max_seq_length) {
    fail(ErrorCode::invalid_config,
         "method: " + method + ": max_completion_length (" +
             std::to_string(c.max_completion_length) +
             ") leaves no room for the prompt within max_seq_length (" +
             std::to_string(c.max_seq_length) + ")",
         {.key = "max_completion_length"});
  }
}

data::PromptDataset load_rl_prompts(const config::TrainConfig& c,
                                    const tokenizer::Tokenizer& tok,
                                    const std::string& method) {
  data::PromptDataset d = data::load_prompt_data(
      c.data, tok, c.max_seq_length - c.max_completion_length, method);
  if (!c.reward_model.empty()) {
    return d; // a reward model needs no answers
  }
  for (const auto* split :
       {&d.train, d.valid ? &*d.valid : nullptr, d.test ? &*d.test : nullptr}) {
    if (split != nullptr) {
      check_answers(*split, c.reward);
    }
  }
  return d;
}

ReferenceSpec add_reference(const config::TrainConfig& c,
                            const gguf::ModelWithTokenizer& policy,
                            ParamSplit& split) {
  DpoReference reference = make_reference(c, policy, split);
  split.frozen.insert(reference.frozen.begin(), reference.frozen.end());
  return reference.spec;
}

nlohmann::json reward_fields(const config::TrainConfig& c) {
  if (c.reward_model.empty()) {
    return {{"reward", config::to_string(c.reward)}};
  }
  return {{"reward_model", c.reward_model}};
}

std::vector<const data::PromptRow*> PromptSchedule::take(long first,
                                                         long count) {
  std::vector<const data::PromptRow*> prompts;
  const long n = static_cast<long>(rows_.size());
  for (long at = first; at < first + count; ++at) {
    if (at / n != epoch_) {
      epoch_ = at / n;
      order_ = data::epoch_permutation(rows_.size(), seed_, epoch_);
    }
    prompts.push_back(&rows_[order_[at % n]]);
  }
  return prompts;
}

EvalReport evaluate_rewards(const RewardEvaluation& e,
                            const Params& weights,
                            const data::PromptSplit& split,
                            int max_batches,
                            const ProgressFn& progress) {
  const long size = e.batch_size;
  const long rows = static_cast<long>(split.rows.size());
  long total = (rows + size - 1) / size;
  if (max_batches >= 0) {
    total = std::min<long>(total, max_batches);
  }
  generate::SamplingOptions greedy = e.sampling;
  greedy.temperature = 0.0f;
  mx::array unused_key = mx::random::key(0); // greedy draws nothing
  double reward_sum = 0.0;
  double length_sum = 0.0;
  long n = 0;
  for (long b = 0; b < total; ++b) {
    if (progress) {
      progress(b, total);
    }
    std::vector<const data::PromptRow*> prompts;
    for (long i = b * size; i < std::min((b + 1) * size, rows); ++i) {
      prompts.push_back(&split.rows[i]);
    }
    Rollouts r = sample_rollouts(
        e.args, weights, e.forward, e.tok, prompts, 1, greedy, unused_key);
    for (double reward : e.reward.score(r.completions)) {
      reward_sum += reward;
    }
    for (const auto& c : r.completions) {
      length_sum += static_cast<double>(c.tokens.size());
    }
    n += static_cast<long>(prompts.size());
  }
  if (progress) {
    progress(total, total);
  }
  const double mean = n > 0 ? reward_sum / n : 0.0;
  return EvalReport{-mean,
                    {{"reward", mean},
                     {"completion_length", n > 0 ? length_sum / n : 0.0},
                     {"prompts", n}}};
}

OnlineRlMethod::OnlineRlMethod(const config::TrainConfig& c,
                               const std::string& method)
    : config_(c), method_(method), opened_(gguf::open_model(c.model)),
      data_(load_rl_prompts(c, opened_.tokenizer, method)),
      schedule_(data_.train, static_cast<uint64_t>(c.seed)),
      params_(split_for_training(opened_.model, c)),
      reference_(add_reference(c, opened_, params_)),
      forward_(training_forward(c)),
      reward_(make_reward_source(c, opened_.tokenizer)),
      batch_options_{.batch_size = c.batch_size,
                     .pad_multiple = data::default_pad_multiple(),
                     .max_seq_length = c.max_seq_length},
      sampling_{.max_tokens = c.max_completion_length,
                .temperature = static_cast<float>(c.temperature),
                .top_p = static_cast<float>(c.top_p)},
      // A stream of its own, apart from the loop's dropout key.
      key_(mx::random::split(mx::random::key(c.seed)).second) {
  if (auto eos = opened_.tokenizer.eos_id()) {
    sampling_.stop_ids.push_back(*eos);
  }
}

MethodBatch OnlineRlMethod::next_batch(long index) {
  return batches_.at(index % config_.grad_accumulation_steps);
}

void OnlineRlMethod::seek(long batch_index, const nlohmann::json& cursor) {
  (void)cursor;
  step_ = batch_index / config_.grad_accumulation_steps;
}

std::optional<EvalReport> OnlineRlMethod::evaluate(const Params& weights,
                                                   EvalSplit split,
                                                   const ProgressFn& progress) {
  const auto& s = split == EvalSplit::valid ? data_.valid : data_.test;
  if (!s) {
    return std::nullopt;
  }
  return evaluate_rewards({opened_.model.args,
                           forward_,
                           opened_.tokenizer,
                           *reward_,
                           sampling_,
                           config_.batch_size},
                          weights,
                          *s,
                          split == EvalSplit::valid ? config_.val_batches
                                                    : config_.test_batches,
                          progress);
}

std::string OnlineRlMethod::save(const Params& trained,
                                 int step,
                                 bool final,
                                 const nlohmann::json& run_config) {
  return save_trained(
      config_, opened_.model, config_.model, trained, step, final, run_config);
}

nlohmann::json OnlineRlMethod::extra_state() const {
  mx::eval(key_);
  const uint32_t* k = key_.data<uint32_t>();
  return {{"rollout_key", {k[0], k[1]}}};
}

void OnlineRlMethod::restore_extra_state(const nlohmann::json& state) {
  const std::vector<uint32_t> k =
      state.at("rollout_key").get<std::vector<uint32_t>>();
  key_ = mx::array(k.begin(), {2}, mx::uint32);
}

std::vector<nlohmann::json> OnlineRlMethod::setup_records() const {
  if (nlohmann::json warning = slow_choice_warning(opened_.model);
      !warning.is_null()) {
    return {warning};
  }
  return {};
}

nlohmann::json OnlineRlMethod::common_start_fields() const {
  nlohmann::json fields = describe_trained_model(config_, opened_.model);
  fields.update(reward_fields(config_));
  fields.update({{"method", method_},
                 {"reference", reference_kind(config_)},
                 {"train_prompts", data_.train.rows.size()},
                 {"truncated_prompts", data_.train.summary.truncated},
                 {"kl_coef", config_.kl_coef}});
  return fields;
}

Rollouts OnlineRlMethod::sample(const Params& weights,
                                const std::vector<const data::PromptRow*>& p,
                                int group_size) {
  return sample_rollouts(opened_.model.args,
                         weights,
                         forward_,
                         opened_.tokenizer,
                         p,
                         group_size,
                         sampling_,
                         key_);
}

} // namespace mlxt::train
