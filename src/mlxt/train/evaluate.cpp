#include "mlxt/train/evaluate.h"

#include <chrono>
#include <cmath>

#include "mlxt/models/transformer.h"
#include "mlxt/train/loss.h"

namespace mlxt::train {

Evaluator::Evaluator(models::ModelArgs args, nn::ForwardContext ctx)
    : args_(std::move(args)), ctx_(std::move(ctx)) {
  ctx_.lora_dropout = 0.0f;
  ctx_.dropout_key.reset();
  ctx_.checkpoint_blocks = false;
}

EvalResult Evaluator::run(const Params& weights,
                          const std::vector<data::Example>& examples,
                          const data::BatchOptions& options,
                          int max_batches,
                          const std::function<void(long, long)>& progress,
                          double progress_seconds) const {
  std::vector<std::string> names = param_names(weights);
  if (!fn_ || names != names_) {
    names_ = names;
    fn_ = mx::compile([this](const std::vector<mx::array>& in) {
      std::vector<mx::array> values(in.begin(), in.end() - 3);
      nn::ForwardContext ctx = ctx_;
      mx::array logits = models::forward(
          args_, zip_params(names_, values), in[in.size() - 3], ctx);
      const mx::array& mask = in.back();
      return std::vector<mx::array>{
          masked_cross_entropy_sum(logits, in[in.size() - 2], mask),
          mx::sum(mask)};
    });
  }
  std::vector<mx::array> losses;
  std::vector<mx::array> counts;
  const size_t bs = options.batch_size;
  long total = static_cast<long>((examples.size() + bs - 1) / bs);
  if (max_batches >= 0) {
    total = std::min<long>(total, max_batches);
  }
  if (progress) {
    progress(0, total);
  }
  auto last_progress = std::chrono::steady_clock::now();
  for (size_t start = 0, n = 0;
       start < examples.size() && (max_batches < 0 || n < size_t(max_batches));
       start += bs, ++n) {
    std::vector<const data::Example*> rows;
    for (size_t i = start; i < std::min(start + bs, examples.size()); ++i) {
      rows.push_back(&examples[i]);
    }
    data::Batch batch = data::make_batch(rows, options);
    std::vector<mx::array> in = param_values(weights);
    in.insert(in.end(), {batch.inputs, batch.targets, batch.mask});
    auto out = fn_(in);
    losses.push_back(out[0]);
    counts.push_back(out[1]);
    mx::async_eval(out);
    if (progress && std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - last_progress)
                            .count() >= progress_seconds) {
      // Waits for this batch only: the host sum below is unchanged.
      mx::eval(out);
      progress(static_cast<long>(losses.size()), total);
      last_progress = std::chrono::steady_clock::now();
    }
  }
  // Summed in float64 on the host in batch order: deterministic.
  mx::eval(losses);
  mx::eval(counts);
  double loss_sum = 0.0;
  double tokens = 0.0;
  for (size_t i = 0; i < losses.size(); ++i) {
    loss_sum += losses[i].item<float>();
    tokens += counts[i].item<float>();
  }
  EvalResult result;
  result.tokens = static_cast<long>(tokens);
  result.loss = tokens > 0 ? loss_sum / tokens : 0.0;
  result.perplexity = std::exp(result.loss);
  return result;
}

} // namespace mlxt::train
