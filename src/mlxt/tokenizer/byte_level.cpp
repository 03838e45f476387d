#include "mlxt/tokenizer/byte_level.h"

#include <unordered_map>

#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer::detail {

namespace {

// Code point standing for each byte, built as GPT-2's bytes_to_unicode does.
std::array<char32_t, 256> make_byte_code_points() {
  std::array<char32_t, 256> code_points{};
  auto printable = [](int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
           (b >= 0xAE && b <= 0xFF);
  };
  char32_t next_free = 256;
  for (int b = 0; b < 256; ++b) {
    code_points[b] = printable(b) ? static_cast<char32_t>(b) : next_free++;
  }
  return code_points;
}

const std::unordered_map<char32_t, unsigned char>& code_point_to_byte() {
  static const auto table = [] {
    std::unordered_map<char32_t, unsigned char> map;
    auto code_points = make_byte_code_points();
    for (int b = 0; b < 256; ++b) {
      map[code_points[b]] = static_cast<unsigned char>(b);
    }
    return map;
  }();
  return table;
}

} // namespace

const std::array<std::string, 256>& byte_symbols() {
  static const auto symbols = [] {
    std::array<std::string, 256> out;
    auto code_points = make_byte_code_points();
    for (int b = 0; b < 256; ++b) {
      out[b] = utf8_encode(code_points[b]);
    }
    return out;
  }();
  return symbols;
}

std::string bytes_to_symbols(std::string_view bytes) {
  const auto& symbols = byte_symbols();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    out += symbols[static_cast<unsigned char>(c)];
  }
  return out;
}

std::string token_to_bytes(std::string_view token) {
  const auto& table = code_point_to_byte();
  std::string out;
  out.reserve(token.size());
  for (std::size_t pos = 0; pos < token.size();) {
    std::size_t length = utf8_sequence_length(token, pos);
    if (length == 0) {
      return std::string(token);
    }
    auto it = table.find(utf8_decode(token, pos, length));
    if (it == table.end()) {
      return std::string(token);
    }
    out += static_cast<char>(it->second);
    pos += length;
  }
  return out;
}

} // namespace mlxt::tokenizer::detail
