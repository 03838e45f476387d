#include "mlxt/train/methods/ppo.h"

#include <algorithm>
#include <optional>

#include "mlxt/data/batching.h"
#include "mlxt/gguf/model_source.h"
#include "mlxt/models/scalar_head.h"
#include "mlxt/train/methods/dpo_reference.h"
#include "mlxt/train/methods/model_reward.h"
#include "mlxt/train/methods/online_rl.h"
#include "mlxt/train/methods/ppo_loss.h"
#include "mlxt/train/methods/ppo_rollout.h"
#include "mlxt/train/methods/rollout.h"
#include "mlxt/train/trained_model.h"

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

class PpoMethod : public Method {
public:
  explicit PpoMethod(const config::TrainConfig& c)
      : config_(check_supported(c)), opened_(gguf::open_model(c.model)),
        data_(load_rl_prompts(c, opened_.tokenizer, "ppo")),
        schedule_(data_.train, static_cast<uint64_t>(c.seed)),
        params_(split_for_training(opened_.model, c)),
        forward_(training_forward(c)),
        reward_(make_reward_source(c, opened_.tokenizer)),
        batch_options_{.batch_size = c.batch_size,
                       .pad_multiple = data::default_pad_multiple(),
                       .max_seq_length = c.max_seq_length},
        loss_options_{.cliprange = c.epsilon,
                      .cliprange_value = c.cliprange_value,
                      .vf_coef = c.vf_coef},
        sampling_{.max_tokens = c.max_completion_length,
                  .temperature = static_cast<float>(c.temperature),
                  .top_p = static_cast<float>(c.top_p)},
        // A stream of its own, apart from the loop's dropout key.
        key_(mx::random::split(mx::random::key(c.seed)).second),
        kl_coef_(c.kl_coef) {
    if (auto eos = opened_.tokenizer.eos_id()) {
      sampling_.stop_ids.push_back(*eos);
    }
    if (c.kl_target) {
      controller_.emplace(c.kl_coef, *c.kl_target, c.kl_horizon);
    }
    // The reference first: a copy of the starting weights (full
    // fine-tuning) is of the policy alone. Then the value head, trained in
    // float32.
    reference_ = add_reference(c, opened_, params_);
    params_.trainable.insert_or_assign(
        models::kScoreWeight,
        models::init_score_weight(opened_.model.args,
                                  static_cast<uint64_t>(c.seed)));
  }

  const ParamSplit& parameters() const override { return params_; }

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
      rollout_ = sample(weights, step_ / config_.ppo_epochs);
      batches_ = ppo_batches(rollout_, batch_options_);
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
    mx::eval(key_);
    const uint32_t* k = key_.data<uint32_t>();
    json state = {{"rollout_key", {k[0], k[1]}}};
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
    const std::vector<uint32_t> k =
        state.at("rollout_key").get<std::vector<uint32_t>>();
    key_ = mx::array(k.begin(), {2}, mx::uint32);
    if (controller_) {
      controller_->restore(state.at("kl_controller"));
    }
    if (state.contains("rollout")) {
      rollout_ = ppo_rollout_from_json(state["rollout"]);
      batches_ = ppo_batches(rollout_, batch_options_);
    }
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

  // The adapters, without the value head (it serves training only).
  std::string save(const Params& trained,
                   int step,
                   bool final,
                   const json& run_config) override {
    Params adapters = trained;
    adapters.erase(models::kScoreWeight);
    return save_trained(config_,
                        opened_.model,
                        config_.model,
                        adapters,
                        step,
                        final,
                        run_config);
  }

  json start_fields() const override {
    const data::PromptSplit& s = data_.train;
    json fields = describe_trained_model(config_, opened_.model);
    fields.update(reward_fields(config_));
    fields.update({{"method", "ppo"},
                   {"reference", reference_kind(config_)},
                   {"train_prompts", s.rows.size()},
                   {"truncated_prompts", s.summary.truncated},
                   {"ppo_epochs", config_.ppo_epochs},
                   {"kl_coef", config_.kl_coef}});
    if (config_.kl_target) {
      fields["kl_target"] = *config_.kl_target;
    }
    return fields;
  }

  std::vector<json> setup_records() const override {
    if (json warning = slow_choice_warning(opened_.model); !warning.is_null()) {
      return {warning};
    }
    return {};
  }

private:
  double kl_coef() const {
    return controller_ ? controller_->value() : kl_coef_;
  }

  // Rollout number `n`: its prompts sampled with `weights`, scored,
  // measured, and turned into update targets.
  PpoRollout sample(const Params& weights, long n) {
    const long prompts_per_rollout =
        static_cast<long>(config_.batch_size) * config_.grad_accumulation_steps;
    Rollouts r = sample_rollouts(
        opened_.model.args,
        weights,
        forward_,
        opened_.tokenizer,
        schedule_.take(n * prompts_per_rollout, prompts_per_rollout),
        1,
        sampling_,
        key_);
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

  config::TrainConfig config_;
  gguf::ModelWithTokenizer opened_;
  data::PromptDataset data_;
  PromptSchedule schedule_;
  ParamSplit params_;
  ReferenceSpec reference_; // what the KL penalty reads
  nn::ForwardContext forward_;
  std::unique_ptr<RewardSource> reward_;
  data::BatchOptions batch_options_;
  PpoLossOptions loss_options_;
  generate::SamplingOptions sampling_;
  mx::array key_; // uint32 (2,): the rollout RNG
  double kl_coef_;
  std::optional<AdaptiveKlController> controller_;
  long step_ = 0;                    // optimizer steps begun
  PpoRollout rollout_;               // the batch being trained
  std::vector<MethodBatch> batches_; // its micro-batches
  RolloutWindow window_;
};

} // namespace

std::unique_ptr<Method> make_ppo_method(const config::TrainConfig& config) {
  return std::make_unique<PpoMethod>(config);
}

} // namespace mlxt::train
