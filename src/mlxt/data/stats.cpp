#include "mlxt/data/stats.h"

#include <algorithm>

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
  auto pct = [&](double q) {
    return lengths[std::min(lengths.size() - 1,
                            size_t(q * double(lengths.size())))];
  };
  s.min = lengths.front();
  s.median = pct(0.5);
  s.p95 = pct(0.95);
  s.max = lengths.back();
  return s;
}

} // namespace mlxt::data
