// UTF-8 helpers the tokenizer needs: walking code points, validating input and
// the lossy conversion HF applies to decoded bytes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mlxt::tokenizer::detail {

//! Length in bytes of the well-formed UTF-8 sequence starting at
//! `text[pos]`, or 0 when the bytes there are not well-formed UTF-8.
std::size_t utf8_sequence_length(std::string_view text, std::size_t pos);

//! Byte offset of the first ill-formed sequence in `text`, if any.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

//! `bytes` with every maximal ill-formed subsequence replaced by U+FFFD, as
//! Rust's String::from_utf8_lossy (and so HF decode) does.
std::string utf8_lossy(std::string_view bytes);

//! UTF-8 encoding of code point `cp` (cp <= 0x10FFFF).
std::string utf8_encode(char32_t cp);

//! Decodes the well-formed sequence of `length` bytes at `text[pos]`.
char32_t
utf8_decode(std::string_view text, std::size_t pos, std::size_t length);

} // namespace mlxt::tokenizer::detail
