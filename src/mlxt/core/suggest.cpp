#include "mlxt/core/suggest.h"

#include <algorithm>

namespace mlxt {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // One row of the dynamic-programming table at a time.
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool is_close_typo(std::size_t distance, std::string_view word) {
  return distance <= std::max<std::size_t>(2, word.size() / 3);
}

std::string closest_name(std::string_view value,
                         const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const auto& candidate : candidates) {
    bool abbreviates = value.size() >= 3 && candidate.starts_with(value);
    std::size_t distance = abbreviates ? 1 : edit_distance(value, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return is_close_typo(best_distance, value) ? best : "";
}

} // namespace mlxt
