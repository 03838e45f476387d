// "Did you mean": the registered key or allowed value nearest to a misspelt
// one.
#include <algorithm>

#include "mlxt/train/config_registry.h"

namespace mlxt::train::detail {

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

namespace {

std::string_view last_component(std::string_view name) {
  auto dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

// Close enough to be a typo: a third of the length, at least 2 edits.
bool is_close(std::size_t distance, std::string_view word) {
  return distance <= std::max<std::size_t>(2, word.size() / 3);
}

} // namespace

std::string closest_key(std::string_view unknown) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const auto& key : config_keys()) {
    if (key.role == KeyRole::ignored) {
      continue;
    }
    // A right name in the wrong place ("rank" at the top) counts as close
    // as a typo of the whole dotted name.
    std::size_t distance = std::min(
        edit_distance(unknown, key.name),
        edit_distance(last_component(unknown), last_component(key.name)) +
            (unknown == key.name ? 0 : 1));
    if (distance < best_distance) {
      best_distance = distance;
      best = key.name;
    }
  }
  return is_close(best_distance, last_component(unknown)) ? best : "";
}

std::string closest_value(std::string_view value,
                          const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const auto& candidate : candidates) {
    // A shortened name ("cosine" for "cosine_decay") is as good as a typo.
    bool abbreviates = value.size() >= 3 && candidate.starts_with(value);
    std::size_t distance = abbreviates ? 1 : edit_distance(value, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return is_close(best_distance, value) ? best : "";
}

} // namespace mlxt::train::detail
