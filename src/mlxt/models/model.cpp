#include "mlxt/models/model.h"

#include <fstream>
#include <sstream>

#include "mlxt/core/atomic_file.h"
#include "mlxt/core/error.h"
#include "mlxt/core/json_file.h"
#include "mlxt/models/weights_io.h"

namespace mlxt::models {

namespace fs = std::filesystem;

namespace {

std::string shape_string(const mx::Shape& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(shape[i]);
  }
  return out + (shape.size() == 1 ? ",)" : ")");
}

} // namespace

std::map<std::string, mx::Shape> expected_weight_shapes(const ModelArgs& a) {
  std::map<std::string, mx::Shape> shapes;
  const int q_out = a.num_attention_heads * a.head_dim;
  const int kv_out = a.num_key_value_heads * a.head_dim;
  // A quantized (out, in) matrix: packed uint32 weight plus per-group
  // scales and biases.
  auto add_matrix = [&](const std::string& name, int out, int in) {
    const int bits = a.quantization ? a.quantization->bits_for(name) : 0;
    if (bits == 0) {
      shapes[name + ".weight"] = {out, in};
      return;
    }
    const int groups = in / a.quantization->group_size;
    shapes[name + ".weight"] = {out, in * bits / 32};
    shapes[name + ".scales"] = {out, groups};
    shapes[name + ".biases"] = {out, groups};
  };
  auto add_linear = [&](const std::string& name, int out, int in, bool bias) {
    add_matrix(name, out, in);
    if (bias) {
      shapes[name + ".bias"] = {out};
    }
  };
  add_matrix("model.embed_tokens", a.vocab_size, a.hidden_size);
  for (int i = 0; i < a.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i);
    shapes[p + ".input_layernorm.weight"] = {a.hidden_size};
    shapes[p + ".post_attention_layernorm.weight"] = {a.hidden_size};
    add_linear(p + ".self_attn.q_proj", q_out, a.hidden_size, a.qkv_bias);
    add_linear(p + ".self_attn.k_proj", kv_out, a.hidden_size, a.qkv_bias);
    add_linear(p + ".self_attn.v_proj", kv_out, a.hidden_size, a.qkv_bias);
    add_linear(p + ".self_attn.o_proj", a.hidden_size, q_out, a.o_proj_bias);
    if (a.qk_norm) {
      shapes[p + ".self_attn.q_norm.weight"] = {a.head_dim};
      shapes[p + ".self_attn.k_norm.weight"] = {a.head_dim};
    }
    add_linear(
        p + ".mlp.gate_proj", a.intermediate_size, a.hidden_size, a.mlp_bias);
    add_linear(
        p + ".mlp.up_proj", a.intermediate_size, a.hidden_size, a.mlp_bias);
    add_linear(
        p + ".mlp.down_proj", a.hidden_size, a.intermediate_size, a.mlp_bias);
  }
  shapes["model.norm.weight"] = {a.hidden_size};
  if (!a.tie_word_embeddings) {
    add_matrix("lm_head", a.vocab_size, a.hidden_size);
  }
  return shapes;
}

Params check_weights(const ModelArgs& args,
                     Params weights,
                     const std::string& source) {
  std::erase_if(weights, [&](const auto& item) {
    const std::string& name = item.first;
    return name.ends_with(".rotary_emb.inv_freq") ||
           (args.tie_word_embeddings && name.starts_with("lm_head."));
  });
  const auto expected = expected_weight_shapes(args);
  std::vector<std::string> problems;
  for (const auto& [name, shape] : expected) {
    auto it = weights.find(name);
    if (it == weights.end()) {
      problems.push_back("missing " + name + " " + shape_string(shape));
    } else if (it->second.shape() != shape) {
      problems.push_back("wrong shape for " + name + ": expected " +
                         shape_string(shape) + ", found " +
                         shape_string(it->second.shape()));
    }
  }
  for (const auto& [name, value] : weights) {
    if (!expected.contains(name)) {
      problems.push_back("unexpected " + name + " " +
                         shape_string(value.shape()));
    }
  }
  if (!problems.empty()) {
    std::string message = std::to_string(problems.size()) +
                          " weight problem(s) for a " + args.model_type +
                          " model:";
    for (const auto& p : problems) {
      message += "\n  " + p;
    }
    fail(ErrorCode::invalid_model, message, {.file = source});
  }
  return weights;
}

ModelArgs load_model_args(const fs::path& dir) {
  if (!fs::is_directory(dir)) {
    fail(ErrorCode::not_found,
         "model folder does not exist",
         {.file = dir.string()});
  }
  const fs::path file = dir / "config.json";
  if (!fs::exists(file)) {
    fail(ErrorCode::not_found,
         "config.json is missing",
         {.file = file.string()});
  }
  nlohmann::json config = read_json_file(file);
  return parse_model_args(config, file.string());
}

Model load_model(const fs::path& dir) {
  Model model{load_model_args(dir), {}};
  model.weights = check_weights(model.args, load_weights(dir), dir.string());
  return model;
}

void save_model(const fs::path& dir, const Model& model) {
  fs::create_directories(dir);
  save_weights(dir, model.weights);
  write_file_atomic(dir / "config.json", model.args.config.dump(2) + "\n");
}

} // namespace mlxt::models
