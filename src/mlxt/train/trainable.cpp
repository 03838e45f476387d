#include "mlxt/train/trainable.h"

namespace mlxt::train {

ParamSplit split_trainable(const models::Model& model,
                           const TrainableOptions& options) {
  ParamSplit split;
  if (options.fine_tune_type == "full") {
    // Layers cast weights to the compute dtype on use, so fp32 masters get
    // bf16/fp16 compute and fp32 updates.
    mx::Dtype master =
        options.master_weights_fp32 ? mx::float32 : options.compute_dtype;
    for (const auto& [name, w] : model.weights) {
      split.trainable.insert_or_assign(name, mx::astype(w, master));
    }
    return split;
  }
  for (const auto& [name, w] : model.weights) {
    split.frozen.insert_or_assign(name, mx::astype(w, options.compute_dtype));
  }
  split.trainable =
      init_lora_adapters(model.args, model.weights, options.lora, options.seed);
  return split;
}

} // namespace mlxt::train
