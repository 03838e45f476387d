// The GPT-2 byte-level alphabet: every byte 0..255 stands for one printable
// Unicode character, so any byte string becomes a string of vocabulary
// symbols and back.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace mlxt::tokenizer::detail {

//! UTF-8 text of the symbol for each byte (GPT-2 bytes_to_unicode):
//! printable Latin-1 bytes map to themselves, the other 68 bytes to
//! U+0100.. in byte order. Sorting the symbols by code point gives GPT-2's
//! vocabulary order.
const std::array<std::string, 256>& byte_symbols();

//! `bytes` written with byte symbols (each byte becomes one symbol).
std::string bytes_to_symbols(std::string_view bytes);

//! The bytes a token string stands for, as HF's ByteLevel decoder reads
//! it: when every character of `token` is a byte symbol, the bytes they
//! stand for; otherwise (an added token such as "<|my token|>") the token's
//! own UTF-8 bytes.
std::string token_to_bytes(std::string_view token);

} // namespace mlxt::tokenizer::detail
