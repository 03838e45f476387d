#include "mlxt/server/json_depth.h"

namespace mlxt::server {

JsonDepth json_depth(std::string_view text, size_t limit) {
  JsonDepth out;
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > out.depth) {
        out.depth = depth;
      }
      if (depth > limit) {
        out.offset = i;
        out.too_deep = true;
        return out;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return out;
}

} // namespace mlxt::server
