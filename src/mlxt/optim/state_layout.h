// Internal to optim: the one layout of an optimizer's flat state, shared by
// the slot optimizers and the grouped optimizer. Each parameter's slots sit
// together, in parameter order ([m_0, v_0, m_1, v_1, ...] for AdamW), and
// the state array of slot "m" of parameter "a.lora_a" is named "a.lora_a.m"
// in checkpoints.
#pragma once

#include <iterator>
#include <string>
#include <vector>

#include <mlx/mlx.h>

namespace mlxt::optim::detail {

namespace mx = mlx::core;

//! One parameter's state arrays, in its optimizer's slot order.
using Slots = std::vector<mx::array>;

//! slots_of(0), slots_of(1), ... slots_of(count - 1), concatenated: the flat
//! state (or its names) from each parameter's part.
template <class T, class PerParam>
std::vector<T> concat_per_param(size_t count, PerParam&& slots_of) {
  std::vector<T> out;
  for (size_t i = 0; i < count; ++i) {
    auto own = slots_of(i);
    out.insert(out.end(),
               std::make_move_iterator(own.begin()),
               std::make_move_iterator(own.end()));
  }
  return out;
}

//! "<param_name>.<slot>" for each slot name.
inline std::vector<std::string>
slot_state_names(const std::string& param_name,
                 const std::vector<std::string>& slot_names) {
  std::vector<std::string> names;
  names.reserve(slot_names.size());
  for (const auto& slot : slot_names) {
    names.push_back(param_name + "." + slot);
  }
  return names;
}

} // namespace mlxt::optim::detail
