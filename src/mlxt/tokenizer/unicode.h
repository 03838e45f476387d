// Unicode facts the tokenizer needs: normalization forms, character classes
// as Rust's `char` methods define them (which HF `tokenizers` uses), and
// per-character lowercasing. Backed by utf8proc; this is the only file that
// includes it.
#pragma once

#include <string>
#include <string_view>

namespace mlxt::tokenizer::detail {

enum class NormalForm { nfc, nfd, nfkc, nfkd };

//! `text` (valid UTF-8) in normalization form `form`.
std::string normalize_unicode(std::string_view text, NormalForm form);

//! `text` with each character lowercased on its own (no final-sigma rule),
//! as HF's Lowercase normalizer does.
std::string lowercase(std::string_view text);

//! Rust's char::is_whitespace (the White_Space property).
bool is_whitespace(char32_t cp);
//! Rust's char::is_numeric: general categories Nd, Nl, No.
bool is_numeric(char32_t cp);
//! Unicode punctuation (P*) or ASCII punctuation, as HF's Punctuation
//! pre-tokenizer tests.
bool is_punctuation(char32_t cp);
//! A combining mark (general category M*), as HF's StripAccents removes.
bool is_combining_mark(char32_t cp);
//! A "word" character as regex \w: letters, marks, Nd, Nl, connector
//! punctuation and the joiners.
bool is_word_char(char32_t cp);

} // namespace mlxt::tokenizer::detail
