// GGUF import without the downloaded model: a small random llama written as
// GGUF (q/k rows permuted as llama.cpp's converter does) must come back as
// the same HF weights and tokenizer; damaged files and unsupported content
// must fail with named errors; quantized layers must match their dense
// dequantized form.
#include <fstream>

#include "mlxt/gguf/file_check.h"
#include "mlxt/gguf/import.h"
#include "mlxt/models/init.h"
#include "mlxt/models/transformer.h"
#include "mlxt/nn/layers.h"
#include "mlxt/tokenizer/byte_level.h"
#include "mlxt/tokenizer/tokenizer.h"
#include "support/test_support.h"

namespace {

using namespace mlxt;
namespace fs = std::filesystem;

// HF -> GGUF row order of q/k (llama.cpp convert_hf_to_gguf.py `permute`):
// rows of each head go from (2, D/2) to (D/2, 2) order.
mx::array to_gguf_rows(const mx::array& w, int heads) {
  const int out = w.shape(0);
  const int in = w.shape(1);
  mx::array r = mx::reshape(w, {heads, 2, out / heads / 2, in});
  return mx::reshape(mx::swapaxes(r, 1, 2), {out, in});
}

struct TinyGguf {
  models::Model model; // the HF original
  fs::path file;
};

// A random tiny llama written the way llama.cpp lays out a GGUF file.
TinyGguf write_tiny_gguf(const fs::path& file,
                         const std::string& architecture = "llama") {
  std::vector<std::string> tokens = {"<|endoftext|>"};
  for (const auto& s : tokenizer::detail::byte_symbols()) {
    tokens.push_back(s);
  }
  tokens.push_back("ab");
  tokens.push_back("Ġab");
  const int vocab = static_cast<int>(tokens.size());
  models::InitOptions init{.arch = "llama", .preset = "tiny", .seed = 3};
  nlohmann::json config = models::preset_config(init);
  config["vocab_size"] = vocab;
  config["tie_word_embeddings"] = true;
  models::Model model = models::init_model_from_config(config, 3, 0.02f);
  // Norm weights of 1 would hide a mix-up between norms.
  for (auto& [name, w] : model.weights) {
    if (name.ends_with("norm.weight")) {
      w = mx::random::uniform(0.5f, 1.5f, w.shape());
    }
  }
  const auto& a = model.args;
  std::unordered_map<std::string, mx::array> arrays;
  auto put = [&](const std::string& gguf, const std::string& hf) {
    arrays.insert_or_assign(gguf, param(model.weights, hf));
  };
  put("token_embd.weight", "model.embed_tokens.weight");
  put("output_norm.weight", "model.norm.weight");
  for (int i = 0; i < a.num_hidden_layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    const std::string h = "model.layers." + std::to_string(i) + ".";
    put(b + "attn_norm.weight", h + "input_layernorm.weight");
    put(b + "ffn_norm.weight", h + "post_attention_layernorm.weight");
    arrays.insert_or_assign(
        b + "attn_q.weight",
        to_gguf_rows(param(model.weights, h + "self_attn.q_proj.weight"),
                     a.num_attention_heads));
    arrays.insert_or_assign(
        b + "attn_k.weight",
        to_gguf_rows(param(model.weights, h + "self_attn.k_proj.weight"),
                     a.num_key_value_heads));
    put(b + "attn_v.weight", h + "self_attn.v_proj.weight");
    put(b + "attn_output.weight", h + "self_attn.o_proj.weight");
    put(b + "ffn_gate.weight", h + "mlp.gate_proj.weight");
    put(b + "ffn_up.weight", h + "mlp.up_proj.weight");
    put(b + "ffn_down.weight", h + "mlp.down_proj.weight");
  }
  auto u32 = [](int v) { return mx::array(static_cast<uint32_t>(v)); };
  std::unordered_map<std::string, mx::GGUFMetaData> meta = {
      {"general.architecture", architecture},
      {"llama.block_count", u32(a.num_hidden_layers)},
      {"llama.embedding_length", u32(a.hidden_size)},
      {"llama.feed_forward_length", u32(a.intermediate_size)},
      {"llama.attention.head_count", u32(a.num_attention_heads)},
      {"llama.attention.head_count_kv", u32(a.num_key_value_heads)},
      {"llama.attention.layer_norm_rms_epsilon", mx::array(1e-5f)},
      {"llama.rope.freq_base", mx::array(10000.0f)},
      {"llama.context_length", u32(256)},
      {"tokenizer.ggml.model", std::string("gpt2")},
      {"tokenizer.ggml.pre", std::string("smollm")},
      {"tokenizer.ggml.tokens", tokens},
      {"tokenizer.ggml.merges", std::vector<std::string>{"a b", "Ġ ab"}},
      {"tokenizer.ggml.bos_token_id", u32(0)},
      {"tokenizer.ggml.eos_token_id", u32(0)},
      {"tokenizer.chat_template", std::string("{{ messages }}")},
  };
  std::vector<int> types(tokens.size(), 1);
  types[0] = 3;
  meta["tokenizer.ggml.token_type"] =
      mx::array(types.begin(), {vocab}, mx::int32);
  mx::save_gguf(file.string(), arrays, meta);
  return {std::move(model), file};
}

void expect_same(const Params& expected, const Params& actual) {
  ASSERT_EQ(param_names(expected), param_names(actual));
  for (const auto& [name, w] : expected) {
    EXPECT_TRUE(mx::array_equal(w, param(actual, name)).item<bool>()) << name;
  }
}

TEST(GgufImport, RestoresHfWeightsConfigAndTokenizer) {
  mlxt::testing::TempDir dir;
  TinyGguf tiny = write_tiny_gguf(dir / "tiny.gguf");
  gguf::ImportedModel m = gguf::import_gguf(tiny.file);
  EXPECT_EQ(m.model.args.model_type, "llama");
  EXPECT_EQ(m.model.args.num_hidden_layers, tiny.model.args.num_hidden_layers);
  EXPECT_EQ(m.model.args.num_key_value_heads,
            tiny.model.args.num_key_value_heads);
  EXPECT_TRUE(m.model.args.tie_word_embeddings);
  EXPECT_FALSE(m.model.args.quantization);
  expect_same(tiny.model.weights, m.model.weights);

  auto tok = tokenizer::Tokenizer::from_json(
      m.tokenizer.tokenizer, m.tokenizer.tokenizer_config, "tiny");
  // "ab ab" -> "ab", "Ġab"; each digit alone (smollm); the control token.
  const int ab = tok.vocab_size() - 2;
  EXPECT_EQ(tok.encode("ab ab", false), (std::vector<int>{ab, ab + 1}));
  EXPECT_EQ(tok.encode("12", false).size(), 2u);
  EXPECT_EQ(tok.encode("<|endoftext|>", false), std::vector<int>{0});
  EXPECT_EQ(m.tokenizer.tokenizer_config["chat_template"], "{{ messages }}");
  EXPECT_EQ(m.tokenizer.tokenizer_config["eos_token"], "<|endoftext|>");
}

TEST(GgufImport, SavedFolderLoadsAsTheSameModel) {
  mlxt::testing::TempDir dir;
  TinyGguf tiny = write_tiny_gguf(dir / "tiny.gguf");
  gguf::save_imported(dir / "out", gguf::import_gguf(tiny.file));
  models::Model loaded = models::load_model(dir / "out");
  expect_same(tiny.model.weights, loaded.weights);
  EXPECT_GT(tokenizer::Tokenizer::load(dir / "out").vocab_size(), 256);
}

TEST(GgufImport, UnsupportedArchitectureNamesTheKey) {
  mlxt::testing::TempDir dir;
  TinyGguf tiny = write_tiny_gguf(dir / "x.gguf", "falcon");
  EXPECT_MLXT_ERROR(
      gguf::import_gguf(tiny.file), unsupported, "general.architecture");
}

// Bytes of a GGUF v3 file with no metadata and one tensor.
std::string one_tensor_gguf(uint32_t type,
                            std::vector<uint64_t> dims,
                            uint64_t data_bytes) {
  std::string out = "GGUF";
  auto put = [&](auto v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof(v));
  };
  put(uint32_t{3});
  put(uint64_t{1});
  put(uint64_t{0});
  const std::string name = "blk.0.attn_q.weight";
  put(uint64_t{name.size()});
  out += name;
  put(static_cast<uint32_t>(dims.size()));
  for (uint64_t d : dims) {
    put(d);
  }
  put(type);
  put(uint64_t{0});
  out.resize((out.size() + 31) / 32 * 32, '\0');
  out.append(data_bytes, '\1');
  return out;
}

TEST(GgufFileCheck, UnsupportedTensorTypeNamesTheTensor) {
  mlxt::testing::TempDir dir;
  // Q6_K: 256 elements per 210-byte block.
  mlxt::testing::write_file(dir / "q6k.gguf",
                            one_tensor_gguf(14, {256, 4}, 4 * 210));
  EXPECT_MLXT_ERROR(gguf::check_gguf_file(dir / "q6k.gguf"),
                    unsupported,
                    "blk.0.attn_q.weight");
  EXPECT_MLXT_ERROR(
      gguf::check_gguf_file(dir / "q6k.gguf"), unsupported, "Q6_K");
}

TEST(GgufFileCheck, TruncatedAndCorruptFilesGiveNamedErrors) {
  mlxt::testing::TempDir dir;
  const std::string good = one_tensor_gguf(3, {64, 4}, 8 * 20);
  mlxt::testing::write_file(dir / "good.gguf", good);
  EXPECT_EQ(gguf::check_gguf_file(dir / "good.gguf").tensors.size(), 1u);

  // Cut inside the tensor data, inside the tensor info, inside the header.
  for (size_t keep : {good.size() - 1, size_t{40}, size_t{10}}) {
    mlxt::testing::write_file(dir / "cut.gguf", good.substr(0, keep));
    EXPECT_MLXT_ERROR(
        gguf::check_gguf_file(dir / "cut.gguf"), invalid_model, "truncated");
  }
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  mlxt::testing::write_file(dir / "magic.gguf", bad_magic);
  EXPECT_MLXT_ERROR(
      gguf::check_gguf_file(dir / "magic.gguf"), invalid_model, "magic");
  // A huge string length must not be trusted.
  std::string bad_len = good;
  bad_len[24 + 7] = '\x7f';
  mlxt::testing::write_file(dir / "len.gguf", bad_len);
  EXPECT_MLXT_ERROR(
      gguf::check_gguf_file(dir / "len.gguf"), invalid_model, "truncated");
  EXPECT_MLXT_ERROR(
      gguf::import_gguf(dir / "missing.gguf"), not_found, "missing.gguf");
}

TEST(Quantization, ReadsMlxLmEntriesAndRejectsWhatItCannotRun) {
  auto q = models::parse_quantization(
      nlohmann::json::parse(R"({"quantization": {"group_size": 32, "bits": 4,
        "model.embed_tokens": {"group_size": 32, "bits": 8},
        "lm_head": false}})"),
      "config.json");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->bits_for("model.layers.0.mlp.up_proj"), 4);
  EXPECT_EQ(q->bits_for("model.embed_tokens"), 8);
  EXPECT_EQ(q->bits_for("lm_head"), 0);
  // to_json writes what parse_quantization reads.
  const nlohmann::json again = {{"quantization", q->to_json()}};
  EXPECT_EQ(models::parse_quantization(again, "x")->layer_bits, q->layer_bits);
  EXPECT_MLXT_ERROR(
      models::parse_quantization(
          nlohmann::json::parse(R"({"quantization": {"group_size": 32,
            "bits": 4, "model.embed_tokens": {"group_size": 64, "bits": 8}}})"),
          "config.json"),
      unsupported,
      "quantization.model.embed_tokens.group_size");
  EXPECT_MLXT_ERROR(
      models::parse_quantization(
          nlohmann::json::parse(
              R"({"quantization": {"group_size": 32, "bits": 7}})"),
          "config.json"),
      invalid_model,
      "quantization.bits");
}

// A quantized linear and embedding run through quantized_matmul / row
// dequantization and must equal the dense dequantized weight's results.
TEST(QuantizedLayers, MatchTheirDequantizedWeights) {
  mx::random::seed(5);
  mx::array dense = mx::random::normal({48, 64});
  auto q = mx::quantize(dense, 32, 4);
  Params quant = {{"l.weight", q[0]}, {"l.scales", q[1]}, {"l.biases", q[2]}};
  Params plain = {{"l.weight", mx::dequantize(q[0], q[1], q[2], 32, 4)}};
  nn::ForwardContext ctx;
  ctx.quant_group_size = 32;
  mx::array x = mx::random::normal({2, 3, 64});
  EXPECT_TRUE(mx::allclose(nn::linear(quant, "l", x, ctx),
                           nn::linear(plain, "l", x, ctx),
                           1e-4,
                           1e-4)
                  .item<bool>());
  mx::array ids = mx::array({0, 47, 5, 5}, {2, 2}, mx::int32);
  EXPECT_TRUE(mx::array_equal(nn::embedding(quant, "l", ids, ctx),
                              nn::embedding(plain, "l", ids, ctx))
                  .item<bool>());
  EXPECT_EQ(nn::matrix_dims(quant, "l", 32), (std::pair<int, int>{48, 64}));
}

} // namespace
