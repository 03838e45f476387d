#include "mlxt/train/methods/grpo.h"

#include <algorithm>
#include <cmath>

#include "mlxt/core/error.h"
#include "mlxt/data/batching.h"
#include "mlxt/data/prompt_data.h"
#include "mlxt/gguf/model_source.h"
#include "mlxt/train/methods/grpo_loss.h"
#include "mlxt/train/methods/rewards.h"
#include "mlxt/train/methods/rollout.h"
#include "mlxt/train/trained_model.h"

namespace mlxt::train {

namespace {

using nlohmann::json;

// What GRPO does not offer is refused, never silently ignored.
const config::TrainConfig& check_supported(const config::TrainConfig& c) {
  if (c.fine_tune_type != config::FineTuneType::lora) {
    fail(ErrorCode::unsupported,
         "method: grpo needs fine_tune_type: lora for now (its reference is "
         "the base with the adapters switched off; full fine-tuning would "
         "need a frozen copy of the model)",
         {.key = "method"});
  }
  refuse_packing_and_streaming(c, "grpo", "trains on its own rollouts");
  if (c.batch_size % c.num_generations != 0) {
    fail(ErrorCode::invalid_config,
         "method: grpo: batch_size (" + std::to_string(c.batch_size) +
             ") counts completions and must be a multiple of "
             "num_generations (" +
             std::to_string(c.num_generations) + ")",
         {.key = "batch_size"});
  }
  if (c.max_completion_length >= c.max_seq_length) {
    fail(ErrorCode::invalid_config,
         "method: grpo: max_completion_length (" +
             std::to_string(c.max_completion_length) +
             ") leaves no room for the prompt within max_seq_length (" +
             std::to_string(c.max_seq_length) + ")",
         {.key = "max_completion_length"});
  }
  return c;
}

data::PromptDataset load_checked_prompts(const config::TrainConfig& c,
                                         const tokenizer::Tokenizer& tok) {
  data::PromptDataset d = data::load_prompt_data(
      c.data, tok, c.max_seq_length - c.max_completion_length, "grpo");
  for (const auto* split :
       {&d.train, d.valid ? &*d.valid : nullptr, d.test ? &*d.test : nullptr}) {
    if (split != nullptr) {
      check_answers(*split, c.reward);
    }
  }
  return d;
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
        data_(load_checked_prompts(c, opened_.tokenizer)),
        params_(split_for_training(opened_.model, c)),
        forward_(training_forward(c)), reward_(make_rule_reward(c.reward)),
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
  }

  const ParamSplit& parameters() const override { return params_; }

  LossFn loss() const override {
    return grpo_loss(opened_.model.args, forward_, loss_options_);
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
    const auto& rows = data_.train.rows;
    std::vector<const data::PromptRow*> prompts;
    for (long j = 0; j < prompts_per_step; ++j) {
      const long at = step_ * prompts_per_step + j;
      const long epoch = at / static_cast<long>(rows.size());
      if (epoch != order_epoch_) {
        order_ = data::epoch_permutation(rows.size(), config_.seed, epoch);
        order_epoch_ = epoch;
      }
      prompts.push_back(&rows[order_[at % rows.size()]]);
    }
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
    const int max_batches =
        split == EvalSplit::valid ? config_.val_batches : config_.test_batches;
    const long size = config_.batch_size;
    long total = (static_cast<long>(s->rows.size()) + size - 1) / size;
    if (max_batches >= 0) {
      total = std::min<long>(total, max_batches);
    }
    generate::SamplingOptions greedy = sampling_;
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
      for (long i = b * size;
           i < std::min<long>((b + 1) * size, s->rows.size());
           ++i) {
        prompts.push_back(&s->rows[i]);
      }
      Rollouts r = sample_rollouts(opened_.model.args,
                                   weights,
                                   forward_,
                                   opened_.tokenizer,
                                   prompts,
                                   1,
                                   greedy,
                                   unused_key);
      for (double reward : reward_->score(r.completions)) {
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
    fields.update(
        {{"method", "grpo"},
         {"train_prompts", s.rows.size()},
         {"truncated_prompts", s.summary.truncated},
         {"num_generations", config_.num_generations},
         {"reward", config::to_string(config_.reward)},
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
  ParamSplit params_;
  nn::ForwardContext forward_;
  std::unique_ptr<RewardSource> reward_;
  data::BatchOptions batch_options_;
  GrpoLossOptions loss_options_;
  generate::SamplingOptions sampling_;
  mx::array key_;                    // uint32 (2,): the rollout RNG
  long step_ = 0;                    // optimizer steps generated for
  long order_epoch_ = -1;            // the epoch order_ belongs to
  std::vector<size_t> order_;        // prompt order of that epoch
  std::vector<MethodBatch> batches_; // this step's micro-batches
  RolloutWindow window_;
};

} // namespace

std::unique_ptr<Method> make_grpo_method(const config::TrainConfig& config) {
  return std::make_unique<GrpoMethod>(config);
}

} // namespace mlxt::train
