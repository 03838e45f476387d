// A pre-parse guard for request bodies: how deeply arrays and objects nest,
// found by one scan that allocates nothing and recurses nowhere, so a body of
// 100,000 '[' is refused before the JSON library (whose copies and
// conversions recurse per level) ever sees it.
#pragma once

#include <cstddef>
#include <string_view>

namespace mlxt::server {

struct JsonDepth {
  size_t depth = 0;  // the deepest nesting seen (at most limit + 1)
  size_t offset = 0; // byte where nesting first passed the limit
  bool too_deep = false;
};

//! The nesting depth of '[' and '{' in `text`, brackets inside strings not
//! counted; stops at the first one past `limit`. `text` need not be valid
//! JSON: the parser reports syntax errors afterwards.
JsonDepth json_depth(std::string_view text, size_t limit);

} // namespace mlxt::server
