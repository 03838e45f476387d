// Qwen2 / Qwen2.5: the Llama block with biases on the q, k and v projections
// (not on o_proj or the MLP) and rope_theta 1e6 by default.
#include "mlxt/models/registry.h"

namespace mlxt::models {

namespace {

void apply_qwen2(const nlohmann::json&, ModelArgs& args) {
  args.qkv_bias = true;
  args.o_proj_bias = false;
  args.mlp_bias = false;
}

} // namespace

const ArchSpec& qwen2_arch() {
  static const ArchSpec spec{"qwen2", 1000000.0f, apply_qwen2};
  return spec;
}

} // namespace mlxt::models
