#include "mlxt/tokenizer/unicode.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "mlxt/core/error.h"
#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer::detail {

namespace {

utf8proc_propval_t category(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

} // namespace

std::string normalize_unicode(std::string_view text, NormalForm form) {
  if (text.empty()) {
    return {};
  }
  int options = UTF8PROC_STABLE;
  switch (form) {
  case NormalForm::nfc:
    options |= UTF8PROC_COMPOSE;
    break;
  case NormalForm::nfd:
    options |= UTF8PROC_DECOMPOSE;
    break;
  case NormalForm::nfkc:
    options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
    break;
  case NormalForm::nfkd:
    options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
    break;
  }
  utf8proc_uint8_t* out = nullptr;
  utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()),
                   &out,
                   static_cast<utf8proc_option_t>(options));
  std::unique_ptr<utf8proc_uint8_t, void (*)(void*)> owned(out, std::free);
  if (length < 0) {
    fail(ErrorCode::invalid_data,
         std::string("Unicode normalization failed: ") +
             utf8proc_errmsg(length));
  }
  return std::string(reinterpret_cast<const char*>(out),
                     static_cast<std::size_t>(length));
}

std::string lowercase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t length =
        std::max<std::size_t>(utf8_sequence_length(text, pos), 1);
    char32_t cp = utf8_decode(text, pos, length);
    pos += length;
    // U+0130 is the one character whose full lowercase mapping (Rust's
    // to_lowercase) is two characters; utf8proc gives simple mappings.
    if (cp == 0x130) {
      out += "i\xCC\x87";
      continue;
    }
    out += utf8_encode(static_cast<char32_t>(
        utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
  }
  return out;
}

bool is_whitespace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool is_numeric(char32_t cp) {
  auto c = category(cp);
  return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL ||
         c == UTF8PROC_CATEGORY_NO;
}

bool is_punctuation(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) ||
           (cp >= 0x5B && cp <= 0x60) || (cp >= 0x7B && cp <= 0x7E);
  }
  auto c = category(cp);
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

bool is_combining_mark(char32_t cp) {
  auto c = category(cp);
  return c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME;
}

bool is_word_char(char32_t cp) {
  auto c = category(cp);
  return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
         (c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME) ||
         c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL ||
         c == UTF8PROC_CATEGORY_PC || cp == 0x200C || cp == 0x200D;
}

} // namespace mlxt::tokenizer::detail
