// "Did you mean": the registered key or allowed value nearest to a misspelt
// one.
#include <algorithm>

#include "mlxt/config/registry.h"
#include "mlxt/core/suggest.h"

namespace mlxt::config::detail {

namespace {

std::string_view last_component(std::string_view name) {
  auto dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
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
  return is_close_typo(best_distance, last_component(unknown)) ? best : "";
}

} // namespace mlxt::config::detail
