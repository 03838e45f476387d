// Llama 2, Llama 3.x (rope_scaling type llama3), TinyLlama, SmolLM: the base
// architecture. `attention_bias` adds biases to all four attention
// projections and `mlp_bias` to the MLP, as in HF's LlamaConfig.
#include "mlxt/models/registry.h"

namespace mlxt::models {

namespace {

void apply_llama(const nlohmann::json& config, ModelArgs& args) {
  bool attention_bias = config.value("attention_bias", false);
  args.qkv_bias = attention_bias;
  args.o_proj_bias = attention_bias;
  args.mlp_bias = config.value("mlp_bias", false);
}

} // namespace

const ArchSpec& llama_arch() {
  static const ArchSpec spec{"llama", 10000.0f, apply_llama};
  return spec;
}

} // namespace mlxt::models
