#include "mlxt/gguf/llama_import.h"

#include <map>
#include <regex>

#include "mlxt/core/error.h"

namespace mlxt::gguf {

namespace {

using nlohmann::json;

// GGUF tensor base name -> HF name, for names outside the blocks.
const std::map<std::string, std::string>& global_names() {
  static const std::map<std::string, std::string> names = {
      {"token_embd", "model.embed_tokens"},
      {"output_norm", "model.norm"},
      {"output", "lm_head"},
  };
  return names;
}

// Block-relative GGUF name -> HF name.
const std::map<std::string, std::string>& block_names() {
  static const std::map<std::string, std::string> names = {
      {"attn_norm", "input_layernorm"},
      {"ffn_norm", "post_attention_layernorm"},
      {"attn_q", "self_attn.q_proj"},
      {"attn_k", "self_attn.k_proj"},
      {"attn_v", "self_attn.v_proj"},
      {"attn_output", "self_attn.o_proj"},
      {"ffn_gate", "mlp.gate_proj"},
      {"ffn_up", "mlp.up_proj"},
      {"ffn_down", "mlp.down_proj"},
  };
  return names;
}

// The HF layer prefix of a GGUF tensor name without its suffix, or "".
std::string hf_layer(const std::string& base) {
  static const std::regex block(R"(blk\.(\d+)\.(\w+))");
  std::smatch m;
  if (std::regex_match(base, m, block)) {
    auto it = block_names().find(m[2]);
    return it == block_names().end()
               ? ""
               : "model.layers." + m[1].str() + "." + it->second;
  }
  auto it = global_names().find(base);
  return it == global_names().end() ? "" : it->second;
}

// Splits "blk.0.attn_q.weight" into {"blk.0.attn_q", "weight"}.
std::pair<std::string, std::string> split_suffix(const std::string& name) {
  const size_t dot = name.rfind('.');
  return dot == std::string::npos
             ? std::pair{name, std::string()}
             : std::pair{name.substr(0, dot), name.substr(dot + 1)};
}

// Row indices that undo the converter's q/k permutation. It wrote HF row
// h*D + t*D/2 + i (head h, half t, pair i) to row h*D + 2i + t.
mx::array hf_row_order(int heads, int head_dim) {
  std::vector<int> rows;
  rows.reserve(static_cast<size_t>(heads) * head_dim);
  for (int h = 0; h < heads; ++h) {
    for (int t = 0; t < 2; ++t) {
      for (int i = 0; i < head_dim / 2; ++i) {
        rows.push_back(h * head_dim + 2 * i + t);
      }
    }
  }
  return mx::array(rows.begin(), {static_cast<int>(rows.size())}, mx::int32);
}

} // namespace

json llama_config(const Metadata& meta, const FileInfo& info) {
  const std::string arch = meta.require_string("general.architecture");
  if (arch != "llama") {
    fail(ErrorCode::unsupported,
         "GGUF architecture \"" + arch +
             "\" is not supported (supported: "
             "llama)",
         {.file = meta.source(), .key = "general.architecture"});
  }
  const int hidden = meta.require_int("llama.embedding_length");
  const int heads = meta.require_int("llama.attention.head_count");
  json config = {
      {"model_type", "llama"},
      {"architectures", {"LlamaForCausalLM"}},
      {"hidden_size", hidden},
      {"num_hidden_layers", meta.require_int("llama.block_count")},
      {"intermediate_size", meta.require_int("llama.feed_forward_length")},
      {"num_attention_heads", heads},
      {"num_key_value_heads",
       meta.get_int("llama.attention.head_count_kv").value_or(heads)},
      {"rms_norm_eps",
       meta.get_float("llama.attention.layer_norm_rms_epsilon", 1e-5f)},
      {"rope_theta", meta.get_float("llama.rope.freq_base", 10000.0f)},
      {"hidden_act", "silu"},
  };
  if (auto ctx = meta.get_int("llama.context_length")) {
    config["max_position_embeddings"] = *ctx;
  }
  int vocab = 0;
  if (auto v = meta.get_int("llama.vocab_size")) {
    vocab = static_cast<int>(*v);
  } else {
    vocab =
        static_cast<int>(meta.require_strings("tokenizer.ggml.tokens").size());
  }
  config["vocab_size"] = vocab;
  const int head_dim =
      meta.get_int("llama.attention.key_length").value_or(hidden / heads);
  if (head_dim != hidden / heads) {
    config["head_dim"] = head_dim;
  }
  if (auto rot = meta.get_int("llama.rope.dimension_count");
      rot && *rot != head_dim) {
    fail(ErrorCode::unsupported,
         "partial rotary embeddings (" + std::to_string(*rot) + " of " +
             std::to_string(head_dim) + " dimensions) are not supported",
         {.file = meta.source(), .key = "llama.rope.dimension_count"});
  }
  if (auto scaling = meta.get_string("llama.rope.scaling.type");
      scaling && *scaling != "none") {
    if (*scaling != "linear") {
      fail(ErrorCode::unsupported,
           "rope scaling \"" + *scaling +
               "\" is not supported (supported: none, linear)",
           {.file = meta.source(), .key = "llama.rope.scaling.type"});
    }
    config["rope_scaling"] = {
        {"type", "linear"},
        {"factor", meta.get_float("llama.rope.scaling.factor", 1.0f)}};
  }
  bool has_output = false;
  for (const auto& t : info.tensors) {
    has_output = has_output || t.name == "output.weight";
  }
  config["tie_word_embeddings"] = !has_output;
  if (auto q = quantization_of(info)) {
    config["quantization"] = q->to_json();
  }
  return config;
}

std::optional<models::Quantization> quantization_of(const FileInfo& info) {
  std::map<std::string, int> bits; // HF layer -> bits (0: not quantized)
  std::map<int, int> votes;
  for (const auto& t : info.tensors) {
    auto [base, suffix] = split_suffix(t.name);
    const std::string layer = hf_layer(base);
    if (suffix != "weight" || layer.empty() || t.shape.size() != 2) {
      continue;
    }
    const int b = t.type == 8 ? 8 : (t.type == 2 || t.type == 3) ? 4 : 0;
    bits[layer] = b;
    ++votes[b];
  }
  int best = 0;
  for (const auto& [b, n] : votes) {
    if (b != 0 && (best == 0 || n > votes[best])) {
      best = b;
    }
  }
  if (best == 0) {
    return std::nullopt;
  }
  models::Quantization q{.group_size = 32, .bits = best, .layer_bits = {}};
  for (const auto& [layer, b] : bits) {
    if (b != best) {
      q.layer_bits[layer] = b;
    }
  }
  return q;
}

Params llama_weights(std::unordered_map<std::string, mx::array> arrays,
                     const models::ModelArgs& args,
                     const std::string& source) {
  const mx::array q_rows =
      hf_row_order(args.num_attention_heads, args.head_dim);
  const mx::array k_rows =
      hf_row_order(args.num_key_value_heads, args.head_dim);
  Params weights;
  for (auto& [name, value] : arrays) {
    auto [base, suffix] = split_suffix(name);
    const std::string layer = hf_layer(base);
    if (layer.empty() ||
        (suffix != "weight" && suffix != "scales" && suffix != "biases")) {
      fail(ErrorCode::unsupported,
           "tensor has no counterpart in a Hugging Face llama model",
           {.file = source, .key = name});
    }
    // A row permutation: the packed weight, scales and biases alike.
    const bool is_q = layer.ends_with("self_attn.q_proj");
    if (is_q || layer.ends_with("self_attn.k_proj")) {
      const mx::array& rows = is_q ? q_rows : k_rows;
      if (value.ndim() != 2 ||
          value.shape(0) != static_cast<int>(rows.size())) {
        fail(ErrorCode::invalid_model,
             "expected " + std::to_string(rows.size()) +
                 " rows (heads x head_dim) in a 2-D tensor",
             {.file = source, .key = name});
      }
      value = mx::take(value, rows, 0);
    }
    weights.insert_or_assign(layer + "." + suffix, value);
  }
  return weights;
}

} // namespace mlxt::gguf
