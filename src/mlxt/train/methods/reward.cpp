#include "mlxt/train/methods/reward.h"

#include <iomanip>
#include <sstream>

#include "mlxt/data/batching.h"
#include "mlxt/models/scalar_head.h"
#include "mlxt/train/methods/pair_batches.h"
#include "mlxt/train/methods/reward_batch.h"
#include "mlxt/train/methods/reward_loss.h"
#include "mlxt/train/methods/reward_model.h"
#include "mlxt/train/trained_model.h"

namespace mlxt::train {

namespace {

using nlohmann::json;

const config::TrainConfig& check_supported(const config::TrainConfig& c) {
  refuse_packing_and_streaming(c, "reward", "keeps each pair in its own rows");
  return c;
}

// The decoder's split as fine_tune_type says, plus the head, always
// trained in float32: the one stored with the model, or a fresh one.
ParamSplit reward_parameters(const OpenedRewardModel& m,
                             const config::TrainConfig& c) {
  ParamSplit split = split_for_training(m.opened.model, c);
  split.trainable.insert_or_assign(
      models::kScoreWeight,
      m.score ? mx::astype(*m.score, mx::float32)
              : models::init_score_weight(m.opened.model.args,
                                          static_cast<uint64_t>(c.seed)));
  return split;
}

// What a full fine-tune saves through: the base as a sequence classifier
// (its config, and score.weight for the dtype it is saved in).
models::Model classifier_of(const gguf::ModelWithTokenizer& opened) {
  const models::Model& base = opened.model;
  models::Model classifier = base;
  std::optional<int> pad = opened.tokenizer.pad_id();
  classifier.args.config = models::sequence_classifier_config(
      base.args.config, pad ? pad : opened.tokenizer.eos_id());
  classifier.weights.insert_or_assign(
      models::kScoreWeight,
      mx::zeros({1, base.args.hidden_size},
                param(base.weights, "model.norm.weight").dtype()));
  return classifier;
}

class RewardMethod : public Method {
public:
  explicit RewardMethod(const config::TrainConfig& c)
      : config_(check_supported(c)), model_(open_reward_model(c.model)),
        data_(data::load_preference_data(
            c.data, model_.opened.tokenizer, c.max_seq_length)),
        params_(reward_parameters(model_, c)), forward_(training_forward(c)),
        pad_multiple_(data::default_pad_multiple()),
        loss_options_{.center_rewards_coefficient =
                          c.center_rewards_coefficient} {}

  const ParamSplit& parameters() const override { return params_; }

  LossFn loss() const override {
    return reward_loss(model_.opened.model.args, forward_, loss_options_);
  }
  int batch_arrays() const override { return 3; }
  std::vector<std::string> metric_names() const override {
    return pair_metric_names();
  }

  MethodBatch next_batch(long index) override {
    return reward_batch(training_pairs(data_.train.pairs,
                                       config_.batch_size,
                                       static_cast<uint64_t>(config_.seed),
                                       index),
                        pad_multiple_);
  }

  std::optional<EvalReport> evaluate(const Params& weights,
                                     EvalSplit split,
                                     const ProgressFn& progress) override {
    const auto& s = split == EvalSplit::valid ? data_.valid : data_.test;
    if (!s) {
      return std::nullopt;
    }
    nn::ForwardContext eval_forward = forward_;
    eval_forward.lora_dropout = 0.0f; // evaluation never drops out
    return evaluate_pairs(
        reward_loss(model_.opened.model.args, eval_forward, loss_options_),
        weights,
        s->pairs,
        config_.batch_size,
        split == EvalSplit::valid ? config_.val_batches : config_.test_batches,
        [this](const PairRefs& pairs) {
          return reward_batch(pairs, pad_multiple_);
        },
        pair_metric_names(),
        progress);
  }

  std::string save(const Params& trained,
                   int step,
                   bool final,
                   const json& run_config) override {
    if (config_.fine_tune_type == config::FineTuneType::full) {
      return save_trained(config_,
                          classifier_of(model_.opened),
                          config_.model,
                          trained,
                          step,
                          final,
                          run_config);
    }
    Params adapters = trained;
    const mx::array score = param(adapters, models::kScoreWeight);
    adapters.erase(models::kScoreWeight);
    const std::string dir = save_trained(config_,
                                         model_.opened.model,
                                         config_.model,
                                         adapters,
                                         step,
                                         final,
                                         run_config);
    // Named like the adapters beside it: <step>_score.safetensors until
    // the final save.
    std::ostringstream name;
    name << std::setw(7) << std::setfill('0') << step << "_" << kScoreHeadFile;
    save_score_head(dir, final ? kScoreHeadFile : name.str(), score);
    return dir;
  }

  json start_fields() const override {
    const data::EncodeSummary& s = data_.train.summary;
    json fields = describe_trained_model(config_, model_.opened.model);
    fields.update(
        {{"method", "reward"},
         {"train_pairs", s.kept},
         {"truncated", s.truncated},
         {"dropped_no_targets", s.dropped_no_targets},
         {"score_head", model_.score ? "from the model" : "initialised"},
         {"center_rewards_coefficient", config_.center_rewards_coefficient}});
    return fields;
  }

  std::vector<json> setup_records() const override {
    if (json warning = slow_choice_warning(model_.opened.model);
        !warning.is_null()) {
      return {warning};
    }
    return {};
  }

private:
  config::TrainConfig config_;
  OpenedRewardModel model_;
  data::PreferenceDataset data_;
  ParamSplit params_;
  nn::ForwardContext forward_;
  int pad_multiple_;
  RewardLossOptions loss_options_;
};

} // namespace

std::unique_ptr<Method> make_reward_method(const config::TrainConfig& config) {
  return std::make_unique<RewardMethod>(config);
}

} // namespace mlxt::train
