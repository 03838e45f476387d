#include "mlxt/train/lora.h"

#include <cmath>
#include <fstream>

#include "mlxt/config/choices.h"
#include "mlxt/core/error.h"
#include "mlxt/core/json_file.h"
#include "mlxt/core/safetensors.h"
#include "mlxt/nn/layers.h"

namespace mlxt::train {

namespace fs = std::filesystem;

std::vector<std::string> block_linear_keys() {
  return {"self_attn.q_proj",
          "self_attn.k_proj",
          "self_attn.v_proj",
          "self_attn.o_proj",
          "mlp.gate_proj",
          "mlp.up_proj",
          "mlp.down_proj"};
}

Params init_lora_adapters(const models::ModelArgs& args,
                          const Params& weights,
                          const LoraSpec& spec,
                          uint64_t seed) {
  const std::vector<std::string> keys =
      spec.keys.empty() ? block_linear_keys() : spec.keys;
  const std::vector<std::string> known = block_linear_keys();
  for (const auto& key : keys) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string allowed;
      for (const auto& k : known) {
        allowed += (allowed.empty() ? "" : ", ") + k;
      }
      fail(ErrorCode::invalid_config,
           "\"" + key +
               "\" names no linear layer of a block (allowed: " + allowed + ")",
           {.key = "lora_parameters.keys"});
    }
  }
  const int layers = args.num_hidden_layers;
  const int first =
      spec.num_layers < 0 ? 0 : std::max(0, layers - spec.num_layers);
  Params adapters;
  mx::array key = mx::random::key(seed);
  for (int i = first; i < layers; ++i) {
    for (const auto& k : keys) {
      const std::string name = "model.layers." + std::to_string(i) + "." + k;
      const auto [out, in] = nn::matrix_dims(
          weights, name, args.quantization ? args.quantization->group_size : 0);
      const float bound = 1.0f / std::sqrt(static_cast<float>(in));
      auto [next, sub] = mx::random::split(key);
      key = next;
      adapters.insert_or_assign(name + ".lora_a",
                                mx::random::uniform(mx::array(-bound),
                                                    mx::array(bound),
                                                    {in, spec.rank},
                                                    mx::float32,
                                                    sub));
      adapters.insert_or_assign(name + ".lora_b",
                                mx::zeros({spec.rank, out}, mx::float32));
    }
  }
  return adapters;
}

Params without_adapters(const Params& weights) {
  Params base;
  for (const auto& [name, value] : weights) {
    if (!name.ends_with(".lora_a") && !name.ends_with(".lora_b")) {
      base.insert_or_assign(name, value);
    }
  }
  return base;
}

nlohmann::json adapter_config_json(const LoraSpec& spec,
                                   const nlohmann::json& run_config) {
  nlohmann::json out = run_config;
  out["fine_tune_type"] = config::to_string(config::FineTuneType::lora);
  out["num_layers"] = spec.num_layers;
  out["lora_parameters"] = {
      {"rank", spec.rank}, {"scale", spec.scale}, {"dropout", spec.dropout}};
  if (!spec.keys.empty()) {
    out["lora_parameters"]["keys"] = spec.keys;
  }
  return out;
}

LoraSpec read_adapter_config(const fs::path& dir) {
  const fs::path file = dir / "adapter_config.json";
  if (!fs::exists(file)) {
    fail(ErrorCode::not_found,
         "adapter_config.json is missing",
         {.file = file.string()});
  }
  nlohmann::json saved = read_json_file(file);
  // mlx-lm writes "lora", "dora" or "full"; only LoRA adapters load here.
  const std::string type = saved.value("fine_tune_type", "lora");
  if (config::parse_choice<config::FineTuneType>(type) !=
      config::FineTuneType::lora) {
    fail(ErrorCode::unsupported,
         "fine_tune_type \"" + type +
             "\" adapters are not supported (only lora)",
         {.file = file.string(), .key = "fine_tune_type"});
  }
  auto lora = saved.find("lora_parameters");
  if (lora == saved.end() || !lora->is_object() || !lora->contains("rank") ||
      !lora->contains("scale")) {
    fail(ErrorCode::invalid_model,
         "expected an object with rank and scale",
         {.file = file.string(), .key = "lora_parameters"});
  }
  LoraSpec spec;
  try {
    spec.rank = (*lora)["rank"].get<int>();
    spec.scale = (*lora)["scale"].get<float>();
    spec.dropout = lora->value("dropout", 0.0f);
    if (lora->contains("keys") && !(*lora)["keys"].is_null()) {
      spec.keys = (*lora)["keys"].get<std::vector<std::string>>();
    }
    spec.num_layers = saved.value("num_layers", 16);
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorCode::invalid_model,
         e.what(),
         {.file = file.string(), .key = "lora_parameters"});
  }
  return spec;
}

Params load_adapters(const fs::path& dir,
                     const models::ModelArgs& args,
                     const Params& weights) {
  LoraSpec spec = read_adapter_config(dir);
  // The adapters a fresh init would create define the expected names/shapes.
  return load_adapter_file(dir / "adapters.safetensors",
                           init_lora_adapters(args, weights, spec, 0));
}

Params load_adapter_file(const fs::path& file, const Params& expected) {
  Params loaded = load_safetensors_file(file);
  std::vector<std::string> problems;
  for (auto& [name, value] : loaded) {
    auto it = expected.find(name);
    if (it == expected.end()) {
      problems.push_back("unexpected " + name);
    } else if (it->second.shape() != value.shape()) {
      problems.push_back("wrong shape for " + name);
    } else {
      value = mx::astype(value, it->second.dtype());
    }
  }
  for (const auto& [name, _] : expected) {
    if (!loaded.contains(name)) {
      problems.push_back("missing " + name);
    }
  }
  if (!problems.empty()) {
    std::string message =
        "adapters do not match the model and adapter_config.json:";
    for (const auto& p : problems) {
      message += "\n  " + p;
    }
    fail(ErrorCode::invalid_model, message, {.file = file.string()});
  }
  return loaded;
}

void merge_lora_adapters(Params& weights, const Params& adapters, float scale) {
  const std::string suffix = ".lora_a";
  for (const auto& [name, a] : adapters) {
    if (!name.ends_with(suffix)) {
      continue;
    }
    const std::string prefix = name.substr(0, name.size() - suffix.size());
    const mx::array& b = param(adapters, prefix + ".lora_b");
    mx::array& w = weights.at(prefix + ".weight");
    mx::array update =
        mx::multiply(mx::transpose(mx::matmul(mx::astype(a, mx::float32),
                                              mx::astype(b, mx::float32))),
                     mx::array(scale, mx::float32));
    w = mx::astype(mx::add(mx::astype(w, mx::float32), update), w.dtype());
  }
}

} // namespace mlxt::train
