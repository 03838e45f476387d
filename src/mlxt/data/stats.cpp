#include "mlxt/data/stats.h"

#include <algorithm>
#include <cmath>

namespace mlxt::data {

LengthStats length_stats(const std::vector<Example>& examples) {
  LengthStats s;
  std::vector<size_t> lengths;
  lengths.reserve(examples.size());
  for (const Example& e : examples) {
    lengths.push_back(e.tokens.size());
    s.tokens += e.tokens.size();
    s.target_tokens += std::count(e.loss_mask.begin(), e.loss_mask.end(), 1);
  }
  s.examples = lengths.size();
  if (lengths.empty()) {
    return s;
  }
  std::sort(lengths.begin(), lengths.end());
  // Nearest rank: the smallest length with at least q of the examples at
  // or below it, the ceil(q * n)-th in sorted order.
  auto pct = [&](double q) {
    const auto rank =
        static_cast<size_t>(std::ceil(q * double(lengths.size())));
    return lengths[std::clamp<size_t>(rank, 1, lengths.size()) - 1];
  };
  s.min = lengths.front();
  s.median = pct(0.5);
  s.p95 = pct(0.95);
  s.max = lengths.back();
  return s;
}

} // namespace mlxt::data
