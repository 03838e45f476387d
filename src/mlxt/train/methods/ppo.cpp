#include "mlxt/train/methods/ppo.h"

#include <algorithm>
#include <optional>

#include "mlxt/data/batching.h"
#include "mlxt/models/scalar_head.h"
#include "mlxt/train/methods/online_rl.h"
#include "mlxt/train/methods/ppo_loss.h"
#include "mlxt/train/methods/ppo_rollout.h"

namespace mlxt::train {

namespace {

using nlohmann::json;

const config::TrainConfig& check_supported(const config::TrainConfig& c) {
  check_online_rl(c, "ppo");
  return c;
}

// Per completion token of row `row`, the sampling pass's (N, T) values.
std::vector<double>
completion_values(const float* values, int T, int row, const data::Example& e) {
  std::vector<double> out;
  for (int t : completion_positions(e, T)) {
    out.push_back(values[static_cast<size_t>(row) * T + t]);
  }
  return out;
}

// Host-side rollout statistics of one report window.
struct RolloutWindow {
  double score_sum = 0.0;
  double kl_sum = 0.0;
  double non_score_sum = 0.0;
  double length_sum = 0.0;
  long completions = 0;
  double kl_coef = 0.0; // the weight that penalised the latest rollout
};

class PpoMethod : public OnlineRlMethod {
public:
  explicit PpoMethod(const config::TrainConfig& c)
      : OnlineRlMethod(check_supported(c), "ppo"),
        loss_options_{.cliprange = c.epsilon,
                      .cliprange_value = c.cliprange_value,
                      .vf_coef = c.vf_coef},
        kl_coef_(c.kl_coef) {
    if (c.kl_target) {
      controller_.emplace(c.kl_coef, *c.kl_target, c.kl_horizon);
    }
    // The value head, trained in float32. The base made the reference
    // first, so a copy of the starting weights (full fine-tuning) holds the
    // policy alone.
    params_.trainable.insert_or_assign(
        models::kScoreWeight,
        models::init_score_weight(opened_.model.args,
                                  static_cast<uint64_t>(c.seed)));
  }

  LossFn loss() const override {
    return ppo_loss(opened_.model.args, forward_, loss_options_);
  }
  int batch_arrays() const override { return 7; }
  std::vector<std::string> metric_names() const override {
    return ppo_metric_names();
  }

  // A new rollout batch every ppo_epochs optimizer steps; the steps between
  // train the same one.
  void before_update(const Params& weights) override {
    if (step_ % config_.ppo_epochs == 0) {
      rollout_ = next_rollout(weights, step_ / config_.ppo_epochs);
      batches_ = ppo_batches(rollout_, batch_options_);
    }
    ++step_;
  }

  json report_metrics() override {
    if (window_.completions == 0) { // steps on an earlier rollout batch
      return {{"kl_coef", kl_coef()}};
    }
    const RolloutWindow w = window_;
    window_ = {};
    const double n = static_cast<double>(w.completions);
    return {{"reward", w.score_sum / n},
            {"kl", w.kl_sum / n},
            {"non_score_reward", w.non_score_sum / n},
            {"completion_length", w.length_sum / n},
            {"kl_coef", w.kl_coef}};
  }

  json extra_state() const override {
    json state = OnlineRlMethod::extra_state();
    if (controller_) {
      state["kl_controller"] = controller_->state();
    }
    // A batch with ppo epochs still to run goes with the checkpoint.
    if (step_ % config_.ppo_epochs != 0) {
      state["rollout"] = to_json(rollout_);
    }
    return state;
  }
  void restore_extra_state(const json& state) override {
    OnlineRlMethod::restore_extra_state(state);
    if (controller_) {
      controller_->restore(state.at("kl_controller"));
    }
    if (state.contains("rollout")) {
      rollout_ = ppo_rollout_from_json(state["rollout"]);
      batches_ = ppo_batches(rollout_, batch_options_);
    }
  }

  // The policy, without the value head (it serves training only).
  std::string save(const Params& trained,
                   int step,
                   bool final,
                   const json& run_config) override {
    Params policy = trained;
    policy.erase(models::kScoreWeight);
    return OnlineRlMethod::save(policy, step, final, run_config);
  }

  json start_fields() const override {
    json fields = common_start_fields();
    fields["ppo_epochs"] = config_.ppo_epochs;
    if (config_.kl_target) {
      fields["kl_target"] = *config_.kl_target;
    }
    return fields;
  }

private:
  double kl_coef() const {
    return controller_ ? controller_->value() : kl_coef_;
  }

  // Rollout number `n`: its prompts sampled with `weights`, scored,
  // measured, and turned into update targets.
  PpoRollout next_rollout(const Params& weights, long n) {
    const long prompts_per_rollout =
        static_cast<long>(config_.batch_size) * config_.grad_accumulation_steps;
    Rollouts r =
        sample(weights,
               schedule_.take(n * prompts_per_rollout, prompts_per_rollout),
               1);
    const std::vector<double> scores = reward_->score(r.completions);
    std::vector<SampledCompletion> sampled;
    const size_t size = static_cast<size_t>(config_.batch_size);
    for (size_t begin = 0; begin < r.sequences.size(); begin += size) {
      const size_t end = std::min(r.sequences.size(), begin + size);
      std::vector<const data::Example*> rows;
      for (size_t i = begin; i < end; ++i) {
        rows.push_back(&r.sequences[i]);
      }
      data::Batch b = data::make_batch(rows, batch_options_);
      PpoSamplingPass pass = ppo_sampling_pass(opened_.model.args,
                                               weights,
                                               forward_,
                                               reference_,
                                               b.inputs,
                                               b.targets);
      mx::eval({pass.logps, pass.ref_logps, pass.values});
      const int T = b.targets.shape(1);
      for (size_t i = begin; i < end; ++i) {
        const int row = static_cast<int>(i - begin);
        const data::Example& e = r.sequences[i];
        sampled.push_back(
            {e,
             scores[i],
             completion_values(pass.logps.data<float>(), T, row, e),
             completion_values(pass.ref_logps.data<float>(), T, row, e),
             completion_values(pass.values.data<float>(), T, row, e)});
      }
    }
    PpoRollout rollout =
        build_ppo_rollout(sampled, kl_coef(), config_.gamma, config_.lam);
    record(r, rollout);
    window_.kl_coef = kl_coef();
    if (controller_) {
      controller_->update(rollout.mean_kl,
                          static_cast<double>(rollout.rows.size()));
    }
    return rollout;
  }

  void record(const Rollouts& r, const PpoRollout& rollout) {
    const double n = static_cast<double>(rollout.rows.size());
    window_.score_sum += rollout.mean_score * n;
    window_.kl_sum += rollout.mean_kl * n;
    window_.non_score_sum += rollout.mean_non_score_reward * n;
    for (const auto& c : r.completions) {
      window_.length_sum += static_cast<double>(c.tokens.size());
    }
    window_.completions += static_cast<long>(rollout.rows.size());
  }

  PpoLossOptions loss_options_;
  double kl_coef_; // fixed, without kl_target
  std::optional<AdaptiveKlController> controller_;
  PpoRollout rollout_; // the batch being trained
  RolloutWindow window_;
};

} // namespace

std::unique_ptr<Method> make_ppo_method(const config::TrainConfig& config) {
  return std::make_unique<PpoMethod>(config);
}

} // namespace mlxt::train
