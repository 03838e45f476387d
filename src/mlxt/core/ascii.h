// ASCII case folding for protocol and file-name tokens (HTTP header names,
// auth schemes, file extensions), which are compared case-insensitively and
// are ASCII by definition; bytes above 0x7F are left as they are.
#pragma once

#include <string>

namespace mlxt {

//! `s` with A-Z turned into a-z.
inline std::string ascii_lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return s;
}

} // namespace mlxt
