#include "mlxt/train/trainable.h"

#include "mlxt/core/error.h"

namespace mlxt::train {

Params frozen_weights(const Params& weights,
                      mx::Dtype compute_dtype,
                      const std::string& prefix) {
  Params frozen;
  for (const auto& [name, w] : weights) {
    // Packed quantized weights stay as they are; their scales and biases
    // follow the compute dtype, as quantized_matmul needs.
    frozen.insert_or_assign(prefix + name,
                            mx::issubdtype(w.dtype(), mx::floating)
                                ? mx::astype(w, compute_dtype)
                                : w);
  }
  return frozen;
}

ParamSplit split_trainable(const models::Model& model,
                           const TrainableOptions& options) {
  ParamSplit split;
  if (options.fine_tune_type == config::FineTuneType::full) {
    if (model.args.quantization) {
      fail(ErrorCode::unsupported,
           "full fine-tuning of a quantized model is not supported: train "
           "LoRA adapters over it, or dequantize it first (mlxt convert "
           "--from-gguf FILE --out DIR --dequantize)",
           {.key = "fine_tune_type"});
    }
    // Layers cast weights to the compute dtype on use, so fp32 masters get
    // bf16/fp16 compute and fp32 updates.
    mx::Dtype master =
        options.master_weights_fp32 ? mx::float32 : options.compute_dtype;
    for (const auto& [name, w] : model.weights) {
      split.trainable.insert_or_assign(name, mx::astype(w, master));
    }
    return split;
  }
  split.frozen = frozen_weights(model.weights, options.compute_dtype);
  split.trainable =
      init_lora_adapters(model.args, model.weights, options.lora, options.seed);
  return split;
}

} // namespace mlxt::train
