#include "mlxt/train/methods/online_rl.h"

#include <algorithm>

#include "mlxt/core/error.h"
#include "mlxt/data/batching.h"
#include "mlxt/train/methods/dpo_reference.h"
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

} // namespace mlxt::train
