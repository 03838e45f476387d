// Evaluation loss and perplexity over a dataset split, through one compiled
// forward pass. Training and `mlxt eval` use this same path, so a reloaded
// model reproduces the loss reported during training bit for bit.
#pragma once

#include <functional>
#include <vector>

#include "mlxt/core/params.h"
#include "mlxt/data/batching.h"
#include "mlxt/models/args.h"
#include "mlxt/nn/layers.h"

namespace mlxt::train {

struct EvalResult {
  double loss = 0.0;       // token-weighted mean cross-entropy
  double perplexity = 0.0; // exp(loss)
  long tokens = 0;         // targets evaluated
};

class Evaluator {
public:
  //! `ctx` gives the compute dtype and LoRA scale (dropout is never applied).
  Evaluator(models::ModelArgs args, nn::ForwardContext ctx);

  //! Loss over the first `max_batches` batches (all when < 0) of `examples`
  //! in file order, `batch_size` rows each (the last batch may be short).
  //! `progress` (when set) hears (batches done, batches in all) as batches
  //! finish, at most every `progress_seconds`, and once at the start.
  EvalResult run(const Params& weights,
                 const std::vector<data::Example>& examples,
                 const data::BatchOptions& options,
                 int max_batches,
                 const std::function<void(long, long)>& progress = {},
                 double progress_seconds = 1.0) const;

private:
  models::ModelArgs args_;
  nn::ForwardContext ctx_;
  // Compiled per name list: inputs are the weights in name order + batch.
  mutable std::vector<std::string> names_;
  mutable std::function<std::vector<mx::array>(const std::vector<mx::array>&)>
      fn_;
};

} // namespace mlxt::train
