// Qwen3 (dense): no attention biases, an RMSNorm over each head's queries and
// keys before RoPE (q_norm / k_norm of size head_dim), explicit head_dim.
#include "mlxt/models/registry.h"

namespace mlxt::models {

namespace {

void apply_qwen3(const nlohmann::json& config, ModelArgs& args) {
  bool attention_bias = config.value("attention_bias", false);
  args.qkv_bias = attention_bias;
  args.o_proj_bias = attention_bias;
  args.mlp_bias = false;
  args.qk_norm = true;
}

} // namespace

const ArchSpec& qwen3_arch() {
  static const ArchSpec spec{"qwen3", 1000000.0f, apply_qwen3};
  return spec;
}

} // namespace mlxt::models
