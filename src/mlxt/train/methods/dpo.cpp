#include "mlxt/train/methods/dpo.h"

#include <algorithm>

#include "mlxt/core/error.h"
#include "mlxt/data/batching.h"
#include "mlxt/data/preference_data.h"
#include "mlxt/gguf/model_source.h"
#include "mlxt/train/methods/dpo_loss.h"
#include "mlxt/train/trained_model.h"

namespace mlxt::train {

namespace {

using nlohmann::json;

// What DPO does not offer yet is refused, never silently ignored.
const config::TrainConfig& check_supported(const config::TrainConfig& c) {
  if (c.fine_tune_type != config::FineTuneType::lora) {
    fail(ErrorCode::unsupported,
         "method: dpo needs fine_tune_type: lora for now (its reference is "
         "the base with the adapters switched off; full fine-tuning would "
         "need a frozen copy of the model)",
         {.key = "method"});
  }
  for (const auto& [on, key] : {std::pair{c.pack_sequences, "pack_sequences"},
                                std::pair{c.streaming, "streaming"}}) {
    if (on) {
      fail(ErrorCode::unsupported,
           std::string("method: dpo keeps each pair in its own rows; set ") +
               key + ": false",
           {.key = key});
    }
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
                      .type = c.loss_type} {}

  const ParamSplit& parameters() const override { return params_; }

  LossFn loss() const override {
    return dpo_loss(opened_.model.args, forward_, loss_options_);
  }
  int batch_arrays() const override { return 6; }
  std::vector<std::string> metric_names() const override {
    return dpo_metric_names();
  }

  // Batch n of the run: batch_size pairs of a per-epoch permutation (a pure
  // function of seed and epoch, so resuming needs only the index); pairs
  // that do not fill a batch are skipped in that epoch.
  MethodBatch next_batch(long index) override {
    const auto& pairs = data_.train.pairs;
    const long per_epoch =
        std::max<long>(1, static_cast<long>(pairs.size()) / config_.batch_size);
    const std::vector<size_t> order =
        data::epoch_permutation(pairs.size(), config_.seed, index / per_epoch);
    std::vector<const data::PreferencePair*> batch;
    const size_t first = (index % per_epoch) * config_.batch_size;
    for (size_t i = first;
         i < std::min(pairs.size(), first + config_.batch_size);
         ++i) {
      batch.push_back(&pairs[order[i]]);
    }
    return arrays_of(batch);
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
    long total = (static_cast<long>(s->pairs.size()) + size - 1) / size;
    if (max_batches >= 0) {
      total = std::min<long>(total, max_batches);
    }
    nn::ForwardContext eval_forward = forward_;
    eval_forward.lora_dropout = 0.0f; // evaluation never drops out
    const LossFn fn = dpo_loss(opened_.model.args, eval_forward, loss_options_);
    const std::vector<std::string> names = dpo_metric_names();
    std::vector<double> sums(2 + names.size(), 0.0);
    for (long b = 0; b < total; ++b) {
      if (progress) {
        progress(b, total);
      }
      std::vector<const data::PreferencePair*> batch;
      for (long i = b * size;
           i < std::min<long>((b + 1) * size, s->pairs.size());
           ++i) {
        batch.push_back(&s->pairs[i]);
      }
      std::vector<mx::array> out =
          fn(weights, arrays_of(batch).arrays, mx::random::key(0));
      mx::eval(out);
      for (size_t i = 0; i < out.size(); ++i) {
        sums[i] += out[i].item<float>();
      }
    }
    if (progress) {
      progress(total, total);
    }
    const double count = std::max(sums[1], 1.0);
    EvalReport report{sums[0] / count, {{"pairs", sums[1]}}};
    for (size_t m = 0; m < names.size(); ++m) {
      report.metrics[names[m]] = sums[2 + m] / count;
    }
    return report;
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
    fields.update({{"method", "dpo"},
                   {"train_pairs", s.kept},
                   {"truncated", s.truncated},
                   {"dropped_no_targets", s.dropped_no_targets},
                   {"beta", config_.beta},
                   {"label_smoothing", config_.label_smoothing},
                   {"loss_type", config::to_string(config_.loss_type)}});
    return fields;
  }

  std::vector<json> setup_records() const override {
    if (json warning = slow_choice_warning(opened_.model); !warning.is_null()) {
      return {warning};
    }
    return {};
  }

private:
  // Chosen (inputs, targets, mask) then rejected, each side padded alone.
  MethodBatch
  arrays_of(const std::vector<const data::PreferencePair*>& pairs) const {
    std::vector<const data::Example*> chosen;
    std::vector<const data::Example*> rejected;
    for (const auto* p : pairs) {
      chosen.push_back(&p->chosen);
      rejected.push_back(&p->rejected);
    }
    data::Batch c = data::make_batch(chosen, batch_options_);
    data::Batch r = data::make_batch(rejected, batch_options_);
    return {{c.inputs, c.targets, c.mask, r.inputs, r.targets, r.mask},
            c.input_tokens + r.input_tokens,
            c.target_tokens + r.target_tokens};
  }

  config::TrainConfig config_;
  gguf::ModelWithTokenizer opened_;
  data::PreferenceDataset data_;
  ParamSplit params_;
  nn::ForwardContext forward_;
  data::BatchOptions batch_options_;
  DpoLossOptions loss_options_;
};

} // namespace

std::unique_ptr<Method> make_dpo_method(const config::TrainConfig& config) {
  return std::make_unique<DpoMethod>(config);
}

} // namespace mlxt::train
