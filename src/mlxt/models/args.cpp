#include "mlxt/models/args.h"

#include "mlxt/core/error.h"
#include "mlxt/models/registry.h"

namespace mlxt::models {

namespace {

using nlohmann::json;

// Reads config[key] as a positive integer; `required` decides whether a
// missing key is an error or yields `fallback`.
int read_positive_int(const json& config,
                      const char* key,
                      const std::string& source,
                      bool required,
                      int fallback = 0) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) {
    if (required) {
      fail(ErrorCode::invalid_model,
           "missing; a positive integer is required",
           {.file = source, .key = key});
    }
    return fallback;
  }
  if (!it->is_number_integer() || it->get<long long>() <= 0 ||
      it->get<long long>() > (1LL << 30)) {
    fail(ErrorCode::invalid_model,
         "expected a positive integer, got " + it->dump(),
         {.file = source, .key = key});
  }
  return it->get<int>();
}

float read_float(const json& config,
                 const char* key,
                 const std::string& source,
                 float fallback) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) {
    return fallback;
  }
  if (!it->is_number()) {
    fail(ErrorCode::invalid_model,
         "expected a number, got " + it->dump(),
         {.file = source, .key = key});
  }
  return it->get<float>();
}

bool read_bool(const json& config,
               const char* key,
               const std::string& source,
               bool fallback) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) {
    return fallback;
  }
  if (!it->is_boolean()) {
    fail(ErrorCode::invalid_model,
         "expected true or false, got " + it->dump(),
         {.file = source, .key = key});
  }
  return it->get<bool>();
}

// transformers >= 5 nests rope_theta and the scaling under "rope_parameters".
const json* rope_scaling_object(const json& config) {
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    auto it = config.find(key);
    if (it != config.end() && it->is_object()) {
      return &*it;
    }
  }
  return nullptr;
}

RopeScaling parse_rope_scaling(const json& config, const std::string& source) {
  RopeScaling scaling;
  const json* rope = rope_scaling_object(config);
  if (rope == nullptr) {
    return scaling;
  }
  std::string key =
      config.contains("rope_scaling") ? "rope_scaling" : "rope_parameters";
  std::string type = rope->value("type", rope->value("rope_type", "default"));
  scaling.type = type;
  if (type == "default") {
    return scaling;
  }
  if (type != "linear" && type != "llama3") {
    fail(ErrorCode::unsupported,
         "rope scaling type \"" + type +
             "\" is not supported (supported: default, linear, llama3)",
         {.file = source, .key = key + ".type"});
  }
  auto factor = rope->find("factor");
  if (factor == rope->end() || !factor->is_number() ||
      factor->get<float>() <= 0) {
    fail(ErrorCode::invalid_model,
         "a positive \"factor\" is required for rope scaling type " + type,
         {.file = source, .key = key + ".factor"});
  }
  scaling.factor = factor->get<float>();
  if (type == "llama3") {
    scaling.low_freq_factor = rope->value("low_freq_factor", 1.0f);
    scaling.high_freq_factor = rope->value("high_freq_factor", 4.0f);
    scaling.original_max_position_embeddings =
        rope->value("original_max_position_embeddings", 8192);
    if (scaling.high_freq_factor <= scaling.low_freq_factor) {
      fail(ErrorCode::invalid_model,
           "high_freq_factor must be greater than low_freq_factor",
           {.file = source, .key = key});
    }
  }
  return scaling;
}

} // namespace

ModelArgs parse_model_args(const json& config, const std::string& source) {
  if (!config.is_object()) {
    fail(ErrorCode::invalid_model,
         "config.json must hold a JSON object",
         {.file = source});
  }
  auto type_it = config.find("model_type");
  if (type_it == config.end() || !type_it->is_string()) {
    fail(ErrorCode::invalid_model,
         "missing or not a string",
         {.file = source, .key = "model_type"});
  }
  ModelArgs args;
  args.model_type = type_it->get<std::string>();
  const ArchSpec* arch = find_arch(args.model_type);
  if (arch == nullptr) {
    std::string supported;
    for (const auto& name : supported_model_types()) {
      supported += (supported.empty() ? "" : ", ") + name;
    }
    fail(ErrorCode::unsupported,
         "model_type \"" + args.model_type +
             "\" is not supported (supported: " + supported + ")",
         {.file = source, .key = "model_type"});
  }

  args.hidden_size = read_positive_int(config, "hidden_size", source, true);
  args.num_hidden_layers =
      read_positive_int(config, "num_hidden_layers", source, true);
  args.intermediate_size =
      read_positive_int(config, "intermediate_size", source, true);
  args.num_attention_heads =
      read_positive_int(config, "num_attention_heads", source, true);
  args.num_key_value_heads = read_positive_int(
      config, "num_key_value_heads", source, false, args.num_attention_heads);
  args.vocab_size = read_positive_int(config, "vocab_size", source, true);
  args.max_position_embeddings =
      read_positive_int(config, "max_position_embeddings", source, false, 0);
  if (args.num_attention_heads % args.num_key_value_heads != 0) {
    fail(ErrorCode::invalid_model,
         "num_attention_heads (" + std::to_string(args.num_attention_heads) +
             ") must be a multiple of num_key_value_heads (" +
             std::to_string(args.num_key_value_heads) + ")",
         {.file = source, .key = "num_key_value_heads"});
  }
  if (config.contains("head_dim") && !config["head_dim"].is_null()) {
    args.head_dim = read_positive_int(config, "head_dim", source, true);
  } else {
    if (args.hidden_size % args.num_attention_heads != 0) {
      fail(ErrorCode::invalid_model,
           "hidden_size must be a multiple of num_attention_heads when "
           "head_dim is not given",
           {.file = source, .key = "head_dim"});
    }
    args.head_dim = args.hidden_size / args.num_attention_heads;
  }
  if (args.head_dim % 2 != 0) {
    fail(ErrorCode::invalid_model,
         "head_dim must be even for rotary embeddings, got " +
             std::to_string(args.head_dim),
         {.file = source, .key = "head_dim"});
  }
  args.rms_norm_eps = read_float(config, "rms_norm_eps", source, 1e-5f);
  float theta = arch->default_rope_theta;
  if (const json* rope = rope_scaling_object(config);
      rope != nullptr && rope->contains("rope_theta")) {
    theta = (*rope)["rope_theta"].get<float>();
  }
  args.rope_theta = read_float(config, "rope_theta", source, theta);
  args.rope_traditional = read_bool(config, "rope_traditional", source, false);
  args.rope_scaling = parse_rope_scaling(config, source);
  args.tie_word_embeddings =
      read_bool(config, "tie_word_embeddings", source, true);
  args.quantization = parse_quantization(config, source);
  arch->apply(config, args);
  args.config = config;
  return args;
}

} // namespace mlxt::models
