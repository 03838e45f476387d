#include "mlxt/train/methods/sft.h"

#include "mlxt/gguf/model_source.h"
#include "mlxt/train/evaluate.h"
#include "mlxt/train/methods/lm_loss.h"
#include "mlxt/train/methods/sft_batches.h"
#include "mlxt/train/trained_model.h"

namespace mlxt::train {

namespace {

using nlohmann::json;

class SftMethod : public Method {
public:
  explicit SftMethod(const config::TrainConfig& c)
      : config_(c), opened_(gguf::open_model(c.model)),
        data_(load_sft_data(c, opened_.tokenizer)),
        params_(split_for_training(opened_.model, c)),
        forward_(training_forward(c)),
        batch_options_{.batch_size = c.batch_size,
                       .pad_multiple = data::default_pad_multiple(),
                       .max_seq_length = c.max_seq_length},
        batches_(data_, batch_options_, c.seed, c.pack_sequences),
        evaluator_(opened_.model.args, forward_) {}

  const ParamSplit& parameters() const override { return params_; }

  LossFn loss() const override {
    return lm_loss(opened_.model.args, forward_, config_.pack_sequences);
  }
  int batch_arrays() const override {
    return lm_batch_size(config_.pack_sequences);
  }

  MethodBatch next_batch(long index) override {
    data::Batch b = batches_.batch(index);
    return {lm_batch_arrays(b, config_.pack_sequences),
            b.input_tokens,
            b.target_tokens};
  }
  json data_cursor() const override { return batches_.cursor(); }
  void seek(long index, const json& cursor) override {
    batches_.seek(index, cursor);
  }

  std::optional<EvalReport> evaluate(const Params& weights,
                                     EvalSplit split,
                                     const ProgressFn& progress) override {
    const auto& examples =
        split == EvalSplit::valid ? data_.dataset.valid : data_.dataset.test;
    if (!examples) {
      return std::nullopt;
    }
    EvalResult r = evaluator_.run(
        weights,
        examples->examples,
        batch_options_,
        split == EvalSplit::valid ? config_.val_batches : config_.test_batches,
        progress);
    return EvalReport{r.loss, {{"ppl", r.perplexity}, {"tokens", r.tokens}}};
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
    const data::EncodeSummary& s = data_.dataset.train.summary;
    json fields = describe_trained_model(config_, opened_.model);
    fields.update({{"method", "sft"},
                   {"train_examples", s.kept},
                   {"truncated", s.truncated},
                   {"dropped_no_targets", s.dropped_no_targets},
                   {"streaming", config_.streaming}});
    return fields;
  }

  std::vector<json> setup_records() const override {
    std::vector<json> records = data_.cache_records;
    if (json warning = slow_choice_warning(opened_.model); !warning.is_null()) {
      records.push_back(warning);
    }
    return records;
  }

private:
  config::TrainConfig config_;
  gguf::ModelWithTokenizer opened_;
  SftData data_;
  ParamSplit params_;
  nn::ForwardContext forward_;
  data::BatchOptions batch_options_;
  SftBatches batches_;
  Evaluator evaluator_;
};

} // namespace

std::unique_ptr<Method> make_sft_method(const config::TrainConfig& config) {
  return std::make_unique<SftMethod>(config);
}

} // namespace mlxt::train
