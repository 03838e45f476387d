#include "mlxt/train/methods/grpo.h"

#include <algorithm>
#include <cmath>

#include "mlxt/core/error.h"
#include "mlxt/data/batching.h"
#include "mlxt/data/prompt_data.h"
#include "mlxt/gguf/model_source.h"
#include "mlxt/train/methods/dpo_reference.h"
#include "mlxt/train/methods/grpo_loss.h"
#include "mlxt/train/methods/model_reward.h"
#include "mlxt/train/methods/online_rl.h"
#include "mlxt/train/methods/rollout.h"
#include "mlxt/train/trained_model.h"

namespace mlxt::train {

namespace {

using nlohmann::json;

// What GRPO does not offer is refused, never silently ignored.
const config::TrainConfig& check_supported(const config::TrainConfig& c) {
  check_online_rl(c, "grpo");
  if (c.batch_size % c.num_generations != 0) {
    fail(ErrorCode::invalid_config,
         "method: grpo: batch_size (" + std::to_string(c.batch_size) +
             ") counts completions and must be a multiple of "
             "num_generations (" +
             std::to_string(c.num_generations) + ")",
         {.key = "batch_size"});
  }
  return c;
}

// Host-side rollout statistics of one report window.
struct RolloutWindow {
  double reward_sum = 0.0;
  double group_std_sum = 0.0;
  double length_sum = 0.0;
  long completions = 0;
  long groups = 0;
};

class GrpoMethod : public Method {
public:
  explicit GrpoMethod(const config::TrainConfig& c)
      : config_(check_supported(c)), opened_(gguf::open_model(c.model)),
        data_(load_rl_prompts(c, opened_.tokenizer, "grpo")),
        schedule_(data_.train, static_cast<uint64_t>(c.seed)),
        params_(split_for_training(opened_.model, c)),
        forward_(training_forward(c)),
        reward_(make_reward_source(c, opened_.tokenizer)),
        batch_options_{.batch_size = c.batch_size,
                       .pad_multiple = data::default_pad_multiple(),
                       .max_seq_length = c.max_seq_length},
        loss_options_{.epsilon = c.epsilon,
                      .epsilon_high = c.epsilon_high.value_or(c.epsilon),
                      .kl_coef = c.kl_coef,
                      .type = c.grpo_loss_type,
                      .max_completion_length = c.max_completion_length},
        sampling_{.max_tokens = c.max_completion_length,
                  .temperature = static_cast<float>(c.temperature),
                  .top_p = static_cast<float>(c.top_p)},
        // A stream of its own, apart from the loop's dropout key.
        key_(mx::random::split(mx::random::key(c.seed)).second) {
    if (auto eos = opened_.tokenizer.eos_id()) {
      sampling_.stop_ids.push_back(*eos);
    }
    reference_ = add_reference(c, opened_, params_);
  }

  const ParamSplit& parameters() const override { return params_; }

  LossFn loss() const override {
    return grpo_loss(opened_.model.args, forward_, loss_options_, reference_);
  }
  int batch_arrays() const override { return 4; }
  std::vector<std::string> metric_names() const override {
    return grpo_metric_names();
  }

  // The generation phase of one optimizer step: its prompts' groups
  // sampled with the current weights, rewarded, and cut into the step's
  // micro-batches.
  void before_update(const Params& weights) override {
    const int G = config_.num_generations;
    const long micro = config_.grad_accumulation_steps;
    const long prompts_per_step = config_.batch_size / G * micro;
    std::vector<const data::PromptRow*> prompts =
        schedule_.take(step_ * prompts_per_step, prompts_per_step);
    Rollouts r = sample_rollouts(opened_.model.args,
                                 weights,
                                 forward_,
                                 opened_.tokenizer,
                                 prompts,
                                 G,
                                 sampling_,
                                 key_);
    const std::vector<double> rewards = reward_->score(r.completions);
    const std::vector<double> advantages =
        group_advantages(rewards, G, config_.scale_rewards);
    record(r, rewards);
    batches_.clear();
    for (long m = 0; m < micro; ++m) {
      std::vector<const data::Example*> rows_of_batch;
      std::vector<float> adv;
      for (long i = m * config_.batch_size; i < (m + 1) * config_.batch_size;
           ++i) {
        rows_of_batch.push_back(&r.sequences[i]);
        adv.push_back(static_cast<float>(advantages[i]));
      }
      data::Batch b = data::make_batch(rows_of_batch, batch_options_);
      batches_.push_back(
          {{b.inputs,
            b.targets,
            b.mask,
            mx::array(adv.begin(), {static_cast<int>(adv.size())})},
           b.input_tokens,
           b.target_tokens});
    }
    ++step_;
  }

  MethodBatch next_batch(long index) override {
    return batches_.at(index % config_.grad_accumulation_steps);
  }
  void seek(long batch_index, const json& cursor) override {
    (void)cursor;
    step_ = batch_index / config_.grad_accumulation_steps;
  }

  json report_metrics() override {
    if (window_.completions == 0) {
      return json::object();
    }
    const RolloutWindow w = window_;
    window_ = {};
    return {{"reward", w.reward_sum / w.completions},
            {"reward_std", w.group_std_sum / w.groups},
            {"completion_length", w.length_sum / w.completions}};
  }

  json extra_state() const override {
    mx::eval(key_);
    const uint32_t* k = key_.data<uint32_t>();
    return {{"rollout_key", {k[0], k[1]}}};
  }
  void restore_extra_state(const json& state) override {
    const std::vector<uint32_t> k =
        state.at("rollout_key").get<std::vector<uint32_t>>();
    key_ = mx::array(k.begin(), {2}, mx::uint32);
  }

  std::optional<EvalReport> evaluate(const Params& weights,
                                     EvalSplit split,
                                     const ProgressFn& progress) override {
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

  std::string save(const Params& trained,
                   int step,
                   bool final,
                   const json& run_config) override {
    return save_trained(config_,
                        opened_.model,
                        config_.model,
                        trained,
                        step,
                        final,
                        run_config);
  }

  json start_fields() const override {
    const data::PromptSplit& s = data_.train;
    json fields = describe_trained_model(config_, opened_.model);
    fields.update(reward_fields(config_));
    fields.update(
        {{"method", "grpo"},
         {"reference", reference_kind(config_)},
         {"train_prompts", s.rows.size()},
         {"truncated_prompts", s.summary.truncated},
         {"num_generations", config_.num_generations},
         {"kl_coef", config_.kl_coef},
         {"grpo_loss_type", config::to_string(config_.grpo_loss_type)}});
    return fields;
  }

  std::vector<json> setup_records() const override {
    if (json warning = slow_choice_warning(opened_.model); !warning.is_null()) {
      return {warning};
    }
    return {};
  }

private:
  void record(const Rollouts& r, const std::vector<double>& rewards) {
    const int G = config_.num_generations;
    for (size_t i = 0; i < rewards.size(); ++i) {
      window_.reward_sum += rewards[i];
      window_.length_sum += static_cast<double>(r.completions[i].tokens.size());
    }
    // TRL's reward_std: the mean over groups of each group's (unbiased) std.
    for (size_t begin = 0; begin < rewards.size(); begin += G) {
      double mean = 0.0;
      for (int g = 0; g < G; ++g) {
        mean += rewards[begin + g] / G;
      }
      double ss = 0.0;
      for (int g = 0; g < G; ++g) {
        ss += (rewards[begin + g] - mean) * (rewards[begin + g] - mean);
      }
      window_.group_std_sum += std::sqrt(ss / (G - 1));
      ++window_.groups;
    }
    window_.completions += static_cast<long>(rewards.size());
  }

  config::TrainConfig config_;
  gguf::ModelWithTokenizer opened_;
  data::PromptDataset data_;
  PromptSchedule schedule_;
  ParamSplit params_;
  ReferenceSpec reference_; // what the KL term reads
  nn::ForwardContext forward_;
  std::unique_ptr<RewardSource> reward_;
  data::BatchOptions batch_options_;
  GrpoLossOptions loss_options_;
  generate::SamplingOptions sampling_;
  mx::array key_;                    // uint32 (2,): the rollout RNG
  long step_ = 0;                    // optimizer steps generated for
  std::vector<MethodBatch> batches_; // this step's micro-batches
  RolloutWindow window_;
};

} // namespace

std::unique_ptr<Method> make_grpo_method(const config::TrainConfig& config) {
  return std::make_unique<GrpoMethod>(config);
}

} // namespace mlxt::train
