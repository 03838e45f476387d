// Internal to optim: recovers the decimal a float hyper-parameter was written
// as, so our arithmetic matches MLX's Python, which works on doubles.
#pragma once

#include <charconv>

namespace mlxt::optim::detail {

//! The double nearest the shortest decimal that rounds to `x` (0.9f gives
//! 0.9, not 0.89999997615814). Then 1 - b1 rounds to the same float32 as in
//! Python, and AdamW matches MLX bit for bit.
inline double as_decimal(float x) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), x);
  double out = static_cast<double>(x);
  if (ec == std::errc()) {
    std::from_chars(buf, end, out);
  }
  return out;
}

} // namespace mlxt::optim::detail
