#include "mlxt/train/methods/grpo.h"

#include <cmath>

#include "mlxt/core/error.h"
#include "mlxt/data/batching.h"
#include "mlxt/train/methods/grpo_loss.h"
#include "mlxt/train/methods/online_rl.h"

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

class GrpoMethod : public OnlineRlMethod {
public:
  explicit GrpoMethod(const config::TrainConfig& c)
      : OnlineRlMethod(check_supported(c), "grpo"),
        loss_options_{.epsilon = c.epsilon,
                      .epsilon_high = c.epsilon_high.value_or(c.epsilon),
                      .kl_coef = c.kl_coef,
                      .type = c.grpo_loss_type,
                      .max_completion_length = c.max_completion_length} {}

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
    Rollouts r = sample(weights, prompts, G);
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

  json start_fields() const override {
    json fields = common_start_fields();
    fields.update(
        {{"num_generations", config_.num_generations},
         {"grpo_loss_type", config::to_string(config_.grpo_loss_type)}});
    return fields;
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

  GrpoLossOptions loss_options_;
  RolloutWindow window_;
};

} // namespace

std::unique_ptr<Method> make_grpo_method(const config::TrainConfig& config) {
  return std::make_unique<GrpoMethod>(config);
}

} // namespace mlxt::train
