// tiktoken rank files (Llama 3's `tokenizer.model`: one "base64-token rank"
// per line) read as the byte-level BPE tokenizer.json that transformers'
// TikTokenConverter would write: ranks become the vocabulary, merges are
// derived from them, Llama 3's Split regex and ByteLevel do the rest.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mlxt::tokenizer::detail {

//! Llama 3's pre-tokenization regex.
inline constexpr std::string_view kLlama3SplitPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

//! True when `contents` starts like a tiktoken rank file.
bool looks_like_tiktoken(std::string_view contents);

//! The tokenizer.json equivalent of the rank file `contents`. Special
//! tokens come from `config`'s added_tokens_decoder when it has one, else
//! Llama 3's list after the last rank; BOS is the config's bos_token (else
//! "<|begin_of_text|>"). Bad lines throw Error(invalid_model) naming `file`
//! and the line.
nlohmann::json tiktoken_to_tokenizer_json(std::string_view contents,
                                          const nlohmann::json& config,
                                          const std::string& file);

} // namespace mlxt::tokenizer::detail
