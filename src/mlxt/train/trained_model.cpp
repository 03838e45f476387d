#include "mlxt/train/trained_model.h"

#include <iomanip>
#include <sstream>

#include "mlxt/core/error.h"
#include "mlxt/models/quantization.h"
#include "mlxt/train/artifacts.h"

namespace mlxt::train {

namespace fs = std::filesystem;

LoraSpec lora_spec(const config::TrainConfig& c) {
  return LoraSpec{.rank = c.lora_parameters.rank,
                  .scale = c.lora_parameters.scale,
                  .dropout = c.lora_parameters.dropout,
                  .num_layers = c.num_layers,
                  .keys = c.lora_parameters.keys};
}

ParamSplit split_for_training(const models::Model& model,
                              const config::TrainConfig& c) {
  mx::random::seed(c.seed);
  ParamSplit split =
      split_trainable(model,
                      {.fine_tune_type = c.fine_tune_type,
                       .compute_dtype = config::to_mx_dtype(c.compute_dtype),
                       .master_weights_fp32 = c.master_weights_fp32,
                       .lora = lora_spec(c),
                       .seed = static_cast<uint64_t>(c.seed)});
  if (c.resume_adapter_file.empty()) {
    return split;
  }
  const fs::path file = c.resume_adapter_file;
  if (!fs::is_regular_file(file)) {
    fail(ErrorCode::not_found,
         "no such adapter file to start from",
         {.file = file.string(), .key = "resume_adapter_file"});
  }
  if (c.fine_tune_type == config::FineTuneType::lora) {
    split.trainable = load_adapter_file(file, split.trainable);
  } else {
    // Full fine-tuning trains the base with the adapters merged, at the
    // scale they were trained with.
    const LoraSpec saved = read_adapter_config(file.parent_path());
    merge_lora_adapters(
        split.trainable,
        load_adapter_file(
            file, init_lora_adapters(model.args, model.weights, saved, 0)),
        saved.scale);
  }
  return split;
}

nn::ForwardContext training_forward(const config::TrainConfig& c) {
  nn::ForwardContext forward;
  forward.compute_dtype = config::to_mx_dtype(c.compute_dtype);
  forward.lora_scale = c.lora_parameters.scale;
  forward.lora_dropout = c.fine_tune_type == config::FineTuneType::lora
                             ? c.lora_parameters.dropout
                             : 0.0f;
  forward.checkpoint_blocks = c.grad_checkpoint;
  return forward;
}

std::string save_trained(const config::TrainConfig& c,
                         const models::Model& base,
                         const fs::path& model_dir,
                         const Params& trained,
                         int step,
                         bool final,
                         const nlohmann::json& run_config) {
  const fs::path dir = c.adapter_path;
  if (c.fine_tune_type == config::FineTuneType::full) {
    models::Model tuned{base.args, {}};
    for (const auto& [name, w] : trained) {
      // Saved in the checkpoint's original dtype.
      tuned.weights.insert_or_assign(
          name, mx::astype(w, param(base.weights, name).dtype()));
    }
    save_full_model(
        final ? dir : dir / ("step-" + std::to_string(step)), tuned, model_dir);
  } else {
    std::ostringstream name;
    name << std::setw(7) << std::setfill('0') << step
         << "_adapters.safetensors";
    save_adapters(dir,
                  trained,
                  lora_spec(c),
                  run_config,
                  final ? "adapters.safetensors" : name.str());
  }
  return dir.string();
}

nlohmann::json describe_trained_model(const config::TrainConfig& c,
                                      const models::Model& model) {
  const int group_size =
      model.args.quantization ? model.args.quantization->group_size : 0;
  return {{"fine_tune_type", config::to_string(c.fine_tune_type)},
          {"quantized_base", model.args.quantization.has_value()},
          {"total_parameters",
           models::logical_parameter_count(model.weights, group_size)}};
}

void refuse_packing_and_streaming(const config::TrainConfig& c,
                                  const std::string& method,
                                  const std::string& why) {
  for (const auto& [on, key] : {std::pair{c.pack_sequences, "pack_sequences"},
                                std::pair{c.streaming, "streaming"}}) {
    if (on) {
      fail(ErrorCode::unsupported,
           "method: " + method + " " + why + "; set " + key + ": false",
           {.key = key});
    }
  }
}

nlohmann::json slow_choice_warning(const models::Model& model) {
  if (model.args.quantization && mx::default_device() == mx::Device::cpu) {
    return {{"event", "warning"},
            {"slow_choice", "qlora_on_cpu"},
            {"message",
             "LoRA over a quantized base on the CPU runs MLX's quantized "
             "matmul, several times slower than a dense one; a dense copy "
             "trains faster (for a GGUF file: mlxt convert --from-gguf FILE "
             "--out DIR --dequantize, then train on DIR)"}};
  }
  return nullptr;
}

} // namespace mlxt::train
