// The tokenizer of a GGUF file (`tokenizer.ggml.*`) as Hugging Face
// tokenizer.json + tokenizer_config.json contents.
//
// Supported: model "gpt2" (byte-level BPE) with the pre-tokenizers
// llama.cpp names "gpt2", "smollm", "llama-bpe" (Llama 3) and "qwen2"; the
// regexes are llama.cpp's for those names (src/llama-vocab.cpp), written as
// HF Split steps before ByteLevel.
#pragma once

#include <nlohmann/json.hpp>

#include "mlxt/gguf/metadata.h"

namespace mlxt::gguf {

struct TokenizerFiles {
  nlohmann::json tokenizer;        // tokenizer.json
  nlohmann::json tokenizer_config; // tokenizer_config.json
};

//! Builds both files. Throws Error(unsupported) naming tokenizer.ggml.model
//! or tokenizer.ggml.pre for kinds it cannot express, Error(invalid_model)
//! naming the key for inconsistent token lists or ids.
TokenizerFiles tokenizer_files(const Metadata& meta);

} // namespace mlxt::gguf
