#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer::detail {

namespace {

bool is_continuation(unsigned char byte) {
  return (byte & 0xC0) == 0x80;
}

// How many bytes starting at `pos` form a prefix of some well-formed sequence
// (at least 1). Following the Unicode "maximal subpart" rule, that whole
// prefix is replaced by a single U+FFFD.
std::size_t maximal_invalid_prefix(std::string_view text, std::size_t pos) {
  auto lead = static_cast<unsigned char>(text[pos]);
  std::size_t expected = 0;
  unsigned char second_min = 0x80, second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    expected = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    expected = 3;
    if (lead == 0xE0)
      second_min = 0xA0;
    if (lead == 0xED)
      second_max = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    expected = 4;
    if (lead == 0xF0)
      second_min = 0x90;
    if (lead == 0xF4)
      second_max = 0x8F;
  } else {
    return 1;
  }
  std::size_t length = 1;
  while (length < expected && pos + length < text.size()) {
    auto byte = static_cast<unsigned char>(text[pos + length]);
    bool ok = length == 1 ? (byte >= second_min && byte <= second_max)
                          : is_continuation(byte);
    if (!ok) {
      break;
    }
    ++length;
  }
  return length;
}

} // namespace

std::size_t utf8_sequence_length(std::string_view text, std::size_t pos) {
  std::size_t length = maximal_invalid_prefix(text, pos);
  auto lead = static_cast<unsigned char>(text[pos]);
  if (lead < 0x80) {
    return 1;
  }
  std::size_t expected = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
  return length == expected && lead >= 0xC2 && lead <= 0xF4 ? length : 0;
}

std::optional<std::size_t> find_invalid_utf8(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t length = utf8_sequence_length(text, pos);
    if (length == 0) {
      return pos;
    }
    pos += length;
  }
  return std::nullopt;
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t pos = 0; pos < bytes.size();) {
    std::size_t length = utf8_sequence_length(bytes, pos);
    if (length > 0) {
      out.append(bytes.substr(pos, length));
      pos += length;
    } else {
      out += "\xEF\xBF\xBD";
      pos += maximal_invalid_prefix(bytes, pos);
    }
  }
  return out;
}

std::string utf8_encode(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

char32_t
utf8_decode(std::string_view text, std::size_t pos, std::size_t length) {
  auto byte = [&](std::size_t i) {
    return static_cast<char32_t>(static_cast<unsigned char>(text[pos + i]));
  };
  switch (length) {
  case 1:
    return byte(0);
  case 2:
    return ((byte(0) & 0x1F) << 6) | (byte(1) & 0x3F);
  case 3:
    return ((byte(0) & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) |
           (byte(2) & 0x3F);
  default:
    return ((byte(0) & 0x07) << 18) | ((byte(1) & 0x3F) << 12) |
           ((byte(2) & 0x3F) << 6) | (byte(3) & 0x3F);
  }
}

} // namespace mlxt::tokenizer::detail
