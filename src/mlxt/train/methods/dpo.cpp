#include "mlxt/train/methods/dpo.h"

#include "mlxt/core/error.h"
#include "mlxt/data/preference_data.h"
#include "mlxt/gguf/model_source.h"
#include "mlxt/train/methods/dpo_batches.h"
#include "mlxt/train/methods/dpo_forward.h"
#include "mlxt/train/methods/dpo_ref_cache.h"
#include "mlxt/train/methods/dpo_reference.h"
#include "mlxt/train/trained_model.h"

namespace mlxt::train {

namespace {

namespace fs = std::filesystem;
using config::DpoLossType;
using nlohmann::json;

// What DPO does not offer, and keys the chosen loss has no use for, are
// refused, never silently ignored.
const config::TrainConfig& check_supported(const config::TrainConfig& c) {
  refuse_packing_and_streaming(c, "dpo", "keeps each pair in its own rows");
  const std::string loss = "loss_type: " + config::to_string(c.loss_type);
  if (!needs_reference(c.loss_type)) {
    for (const auto& [given, key] :
         {std::pair{!c.ref_model.empty(), "ref_model"},
          std::pair{c.precompute_ref_log_probs, "precompute_ref_log_probs"}}) {
      if (given) {
        fail(ErrorCode::invalid_config,
             loss + " is reference-free, so " + key +
                 " has no use; remove it, or pick a loss against a "
                 "reference (sigmoid, ipo, hinge, robust)",
             {.key = key});
      }
    }
  }
  const bool smooths = c.loss_type == DpoLossType::sigmoid ||
                       c.loss_type == DpoLossType::robust ||
                       c.loss_type == DpoLossType::simpo;
  if (c.label_smoothing > 0 && !smooths) {
    fail(ErrorCode::invalid_config,
         loss + " has no label smoothing (only sigmoid, robust and simpo "
                "do); set label_smoothing: 0",
         {.key = "label_smoothing"});
  }
  return c;
}

class DpoMethod : public Method {
public:
  explicit DpoMethod(const config::TrainConfig& c)
      : config_(check_supported(c)), opened_(gguf::open_model(c.model)),
        data_(data::load_preference_data(
            c.data, opened_.tokenizer, c.max_seq_length)),
        params_(split_for_training(opened_.model, c)),
        forward_(training_forward(c)),
        batch_options_{.batch_size = c.batch_size,
                       .pad_multiple = data::default_pad_multiple(),
                       .max_seq_length = c.max_seq_length},
        loss_options_{.beta = c.beta,
                      .label_smoothing = c.label_smoothing,
                      .type = c.loss_type,
                      .simpo_gamma = c.simpo_gamma} {
    if (!needs_reference(c.loss_type)) {
      reference_.from = ReferenceFrom::none;
    } else if (c.precompute_ref_log_probs) {
      precompute_reference();
      reference_.from = ReferenceFrom::batch;
    } else {
      DpoReference r = make_reference(config_, opened_, params_);
      params_.frozen.insert(r.frozen.begin(), r.frozen.end());
      reference_ = r.spec;
    }
  }

  const ParamSplit& parameters() const override { return params_; }

  LossFn loss() const override {
    return dpo_loss(opened_.model.args, forward_, loss_options_, reference_);
  }
  int batch_arrays() const override {
    return reference_.from == ReferenceFrom::batch ? 8 : 6;
  }
  std::vector<std::string> metric_names() const override {
    return dpo_metric_names(config_.loss_type);
  }

  MethodBatch next_batch(long index) override {
    return pair_batch(
        data_.train,
        training_pairs(
            data_.train.pairs, config_.batch_size, config_.seed, index),
        batch_options_,
        ref_of(train_ref_));
  }

  std::optional<EvalReport> evaluate(const Params& weights,
                                     EvalSplit split,
                                     const ProgressFn& progress) override {
    const bool valid = split == EvalSplit::valid;
    const auto& s = valid ? data_.valid : data_.test;
    if (!s) {
      return std::nullopt;
    }
    nn::ForwardContext eval_forward = forward_;
    eval_forward.lora_dropout = 0.0f; // evaluation never drops out
    const RefLogprobs* ref = ref_of(valid ? valid_ref_ : test_ref_);
    return evaluate_pairs(
        dpo_loss(opened_.model.args, eval_forward, loss_options_, reference_),
        weights,
        s->pairs,
        config_.batch_size,
        valid ? config_.val_batches : config_.test_batches,
        [&](const PairRefs& pairs) {
          return pair_batch(*s, pairs, batch_options_, ref);
        },
        metric_names(),
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
    const data::EncodeSummary& s = data_.train.summary;
    json fields = describe_trained_model(config_, opened_.model);
    fields.update(
        {{"method", "dpo"},
         {"train_pairs", s.kept},
         {"truncated", s.truncated},
         {"dropped_no_targets", s.dropped_no_targets},
         {"beta", config_.beta},
         {"label_smoothing", config_.label_smoothing},
         {"loss_type", config::to_string(config_.loss_type)},
         {"reference", reference_kind(config_)},
         {"precompute_ref_log_probs", config_.precompute_ref_log_probs}});
    if (config_.loss_type == DpoLossType::simpo) {
      fields["simpo_gamma"] = config_.simpo_gamma;
    }
    return fields;
  }

  std::vector<json> setup_records() const override {
    std::vector<json> records = ref_records_;
    if (json warning = slow_choice_warning(opened_.model); !warning.is_null()) {
      records.push_back(warning);
    }
    return records;
  }

private:
  static const RefLogprobs* ref_of(const std::optional<RefLogprobs>& ref) {
    return ref ? &*ref : nullptr;
  }

  // The reference's log-probs of every split's pairs, from the cache or
  // computed (the reference is opened only then, and released after).
  void precompute_reference() {
    const std::optional<fs::path> root = ref_cache_root(config_);
    std::optional<DpoReference> reference;
    auto one = [&](const data::PreferenceSplit& split,
                   const std::string& name) {
      std::string key;
      fs::path file;
      if (root) {
        key = ref_cache_key(config_, split.source);
        file = *root / (key + ".bin");
        if (auto hit = read_ref_logprobs(file, key, split.pairs.size())) {
          ref_records_.push_back({{"event", "ref_logprobs"},
                                  {"split", name},
                                  {"path", file.string()},
                                  {"reused", true}});
          return *hit;
        }
      }
      if (!reference) {
        reference = make_reference(config_, opened_, params_);
      }
      Params weights = params_.frozen;
      weights.insert(reference->frozen.begin(), reference->frozen.end());
      nn::ForwardContext ctx = forward_;
      ctx.lora_dropout = 0.0f;
      RefLogprobs values = compute_ref_logprobs(
          split,
          batch_options_,
          reference->spec.args.value_or(opened_.model.args),
          reference_weights(weights, reference->spec.from),
          ctx);
      if (root) {
        write_ref_logprobs(file, key, values);
      }
      ref_records_.push_back({{"event", "ref_logprobs"},
                              {"split", name},
                              {"path", root ? json(file.string()) : json()},
                              {"reused", false}});
      return values;
    };
    train_ref_ = one(data_.train, "train");
    if (data_.valid) {
      valid_ref_ = one(*data_.valid, "valid");
    }
    if (data_.test) {
      test_ref_ = one(*data_.test, "test");
    }
  }

  config::TrainConfig config_;
  gguf::ModelWithTokenizer opened_;
  data::PreferenceDataset data_;
  ParamSplit params_;
  nn::ForwardContext forward_;
  data::BatchOptions batch_options_;
  DpoLossOptions loss_options_;
  ReferenceSpec reference_;
  // Precomputed reference log-probs of each split.
  std::optional<RefLogprobs> train_ref_, valid_ref_, test_ref_;
  std::vector<json> ref_records_;
};

} // namespace

std::unique_ptr<Method> make_dpo_method(const config::TrainConfig& config) {
  return std::make_unique<DpoMethod>(config);
}

} // namespace mlxt::train
