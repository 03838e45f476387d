// Mistral 7B-style models: the Llama block with no biases. Sliding-window
// attention (v0.1's 4096 window) only matters past the window, which
// fine-tuning sequences here do not reach; mlx-lm ignores it the same way.
#include "mlxt/models/registry.h"

namespace mlxt::models {

namespace {

void apply_mistral(const nlohmann::json&, ModelArgs& args) {
  args.qkv_bias = false;
  args.o_proj_bias = false;
  args.mlp_bias = false;
}

} // namespace

const ArchSpec& mistral_arch() {
  static const ArchSpec spec{"mistral", 10000.0f, apply_mistral};
  return spec;
}

} // namespace mlxt::models
