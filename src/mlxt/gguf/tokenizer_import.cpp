#include "mlxt/gguf/tokenizer_import.h"

#include <map>

#include "mlxt/core/error.h"

namespace mlxt::gguf {

namespace {

using nlohmann::json;

// GGUF token types (llama.cpp's llama_token_type).
constexpr int kControl = 3;
constexpr int kUserDefined = 4;

json split_step(const std::string& regex) {
  return {{"type", "Split"},
          {"pattern", {{"Regex", regex}}},
          {"behavior", "Isolated"},
          {"invert", false}};
}

json byte_level(bool use_regex) {
  return {{"type", "ByteLevel"},
          {"add_prefix_space", false},
          {"trim_offsets", true},
          {"use_regex", use_regex}};
}

// tokenizer.ggml.pre -> the HF pre_tokenizer that splits text the same way.
json pre_tokenizer(const std::string& pre, const std::string& source) {
  if (pre == "gpt2" || pre == "default") {
    return byte_level(true);
  }
  if (pre == "smollm") {
    // Each digit on its own, then GPT-2's words.
    return {{"type", "Sequence"},
            {"pretokenizers", {split_step(R"(\p{N})"), byte_level(true)}}};
  }
  if (pre == "llama-bpe" || pre == "llama3") {
    return {
        {"type", "Sequence"},
        {"pretokenizers",
         {split_step(
              R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"),
          byte_level(false)}}};
  }
  if (pre == "qwen2") {
    return {
        {"type", "Sequence"},
        {"pretokenizers",
         {split_step(
              R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"),
          byte_level(false)}}};
  }
  fail(ErrorCode::unsupported,
       "pre-tokenizer \"" + pre +
           "\" is not supported (supported: gpt2, smollm, llama-bpe, qwen2)",
       {.file = source, .key = "tokenizer.ggml.pre"});
}

// The token string for an id key, or nullopt when the key is absent.
std::optional<std::string> token_for(const Metadata& meta,
                                     const std::vector<std::string>& tokens,
                                     const std::string& key) {
  auto id = meta.get_int(key);
  if (!id) {
    return std::nullopt;
  }
  if (*id < 0 || *id >= static_cast<long long>(tokens.size())) {
    fail(ErrorCode::invalid_model,
         "token id " + std::to_string(*id) + " is outside the vocabulary (" +
             std::to_string(tokens.size()) + " tokens)",
         {.file = meta.source(), .key = key});
  }
  return tokens[*id];
}

} // namespace

TokenizerFiles tokenizer_files(const Metadata& meta) {
  const std::string model = meta.require_string("tokenizer.ggml.model");
  if (model != "gpt2") {
    fail(ErrorCode::unsupported,
         "tokenizer model \"" + model +
             "\" is not supported (supported: gpt2, byte-level BPE)",
         {.file = meta.source(), .key = "tokenizer.ggml.model"});
  }
  const auto& tokens = meta.require_strings("tokenizer.ggml.tokens");
  const auto& merges = meta.require_strings("tokenizer.ggml.merges");
  std::vector<int> types(tokens.size(), 1);
  if (meta.contains("tokenizer.ggml.token_type")) {
    types = meta.require_ints("tokenizer.ggml.token_type");
    if (types.size() != tokens.size()) {
      fail(ErrorCode::invalid_model,
           std::to_string(types.size()) + " token types for " +
               std::to_string(tokens.size()) + " tokens",
           {.file = meta.source(), .key = "tokenizer.ggml.token_type"});
    }
  }
  const std::string pre =
      meta.get_string("tokenizer.ggml.pre").value_or("default");

  json vocab = json::object();
  json added = json::array();
  for (size_t id = 0; id < tokens.size(); ++id) {
    vocab[tokens[id]] = id;
    if (types[id] == kControl || types[id] == kUserDefined) {
      added.push_back({{"id", id},
                       {"content", tokens[id]},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"normalized", types[id] == kUserDefined},
                       {"special", types[id] == kControl}});
    }
  }
  if (vocab.size() != tokens.size()) {
    fail(ErrorCode::invalid_model,
         "the vocabulary repeats a token string",
         {.file = meta.source(), .key = "tokenizer.ggml.tokens"});
  }
  TokenizerFiles files;
  files.tokenizer = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", pre_tokenizer(pre, meta.source())},
      {"post_processor", byte_level(false)},
      {"decoder", byte_level(true)},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", pre == "llama-bpe" || pre == "llama3"},
        {"vocab", vocab},
        {"merges", merges}}},
  };
  json config = {
      {"tokenizer_class", "PreTrainedTokenizerFast"},
      {"clean_up_tokenization_spaces", false},
      {"add_bos_token", meta.get_bool("tokenizer.ggml.add_bos_token", false)},
      {"add_eos_token", meta.get_bool("tokenizer.ggml.add_eos_token", false)},
  };
  const std::map<std::string, std::string> special = {
      {"bos_token", "tokenizer.ggml.bos_token_id"},
      {"eos_token", "tokenizer.ggml.eos_token_id"},
      {"pad_token", "tokenizer.ggml.padding_token_id"},
      {"unk_token", "tokenizer.ggml.unknown_token_id"},
  };
  for (const auto& [name, key] : special) {
    if (auto token = token_for(meta, tokens, key)) {
      config[name] = *token;
    }
  }
  if (auto chat = meta.get_string("tokenizer.chat_template")) {
    config["chat_template"] = *chat;
  }
  if (auto ctx = meta.get_int("llama.context_length")) {
    config["model_max_length"] = *ctx;
  }
  files.tokenizer_config = config;
  return files;
}

} // namespace mlxt::gguf
