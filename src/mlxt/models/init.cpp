#include "mlxt/models/init.h"

#include "mlxt/core/error.h"
#include "mlxt/models/registry.h"

namespace mlxt::models {

namespace {

struct Preset {
  const char* name;
  int hidden_size;
  int num_hidden_layers;
  int intermediate_size;
  int num_attention_heads;
  int num_key_value_heads;
};

// tiny: fast unit tests. small: the quickstart (learns a task in minutes on
// 2 CPU cores).
constexpr Preset kPresets[] = {
    {"tiny", 64, 2, 128, 4, 2},
    {"small", 256, 4, 768, 8, 4},
};

} // namespace

nlohmann::json preset_config(const InitOptions& options) {
  const ArchSpec* arch = find_arch(options.arch);
  if (arch == nullptr) {
    fail(ErrorCode::invalid_config,
         "unknown architecture \"" + options.arch + "\"",
         {.key = "arch"});
  }
  const Preset* preset = nullptr;
  for (const Preset& p : kPresets) {
    if (options.preset == p.name) {
      preset = &p;
    }
  }
  if (preset == nullptr) {
    fail(ErrorCode::invalid_config,
         "unknown preset \"" + options.preset + "\" (allowed: tiny, small)",
         {.key = "preset"});
  }
  nlohmann::json config = {
      {"model_type", options.arch},
      {"architectures", nlohmann::json::array()},
      {"hidden_size", preset->hidden_size},
      {"num_hidden_layers", preset->num_hidden_layers},
      {"intermediate_size", preset->intermediate_size},
      {"num_attention_heads", preset->num_attention_heads},
      {"num_key_value_heads", preset->num_key_value_heads},
      {"head_dim", preset->hidden_size / preset->num_attention_heads},
      {"vocab_size", options.vocab_size},
      {"max_position_embeddings", 2048},
      {"rms_norm_eps", 1e-5},
      {"rope_theta",
       options.arch == "llama" || options.arch == "mistral" ? 10000.0
                                                            : 1000000.0},
      {"tie_word_embeddings", true},
      {"initializer_range", options.init_std},
      {"torch_dtype", "float32"},
  };
  const std::string hf_class = options.arch == "llama" ? "LlamaForCausalLM"
                               : options.arch == "mistral"
                                   ? "MistralForCausalLM"
                               : options.arch == "qwen2" ? "Qwen2ForCausalLM"
                                                         : "Qwen3ForCausalLM";
  config["architectures"].push_back(hf_class);
  return config;
}

Model init_model(const InitOptions& options) {
  return init_model_from_config(
      preset_config(options), options.seed, options.init_std);
}

Model init_model_from_config(const nlohmann::json& config,
                             int seed,
                             float init_std,
                             mx::Dtype dtype) {
  Model model{parse_model_args(config, "config"), {}};
  mx::array key = mx::random::key(seed);
  for (const auto& [name, shape] : expected_weight_shapes(model.args)) {
    if (name.ends_with("norm.weight")) {
      model.weights.insert_or_assign(name, mx::ones(shape, dtype));
    } else if (name.ends_with(".bias")) {
      model.weights.insert_or_assign(name, mx::zeros(shape, dtype));
    } else {
      auto [next, sub] = mx::random::split(key);
      key = next;
      model.weights.insert_or_assign(
          name, mx::random::normal(shape, dtype, 0.0f, init_std, sub));
    }
  }
  mx::eval(param_values(model.weights));
  return model;
}

} // namespace mlxt::models
