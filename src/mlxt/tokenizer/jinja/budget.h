// Limits that keep a hostile template from hanging or exhausting memory:
// every evaluation step and every string or list the engine builds is
// counted against them.
#pragma once

#include <cstddef>
#include <string>

#include "mlxt/tokenizer/jinja/fault.h"

namespace mlxt::tokenizer::jinja {

struct Limits {
  std::size_t max_steps = 2'000'000;  // expression and loop steps
  std::size_t max_output = 64u << 20; // bytes of any string or the output
  std::size_t max_items = 1'000'000;  // elements of any list
};

class Budget {
public:
  explicit Budget(Limits limits) : limits_(limits) {}

  void step() {
    if (++steps_ > limits_.max_steps) {
      fault(FaultKind::budget,
            "the template ran more than " + std::to_string(limits_.max_steps) +
                " steps (the step limit); is it looping without end?");
    }
  }
  //! Fails when a string of `bytes` would exceed the output limit.
  void check_size(std::size_t bytes) const {
    if (bytes > limits_.max_output) {
      fault(FaultKind::budget,
            "the template built text of more than " +
                std::to_string(limits_.max_output) +
                " bytes (the output limit)");
    }
  }
  //! Fails when a list of `count` items would exceed the item limit.
  void check_items(std::size_t count) const {
    if (count > limits_.max_items) {
      fault(FaultKind::budget,
            "the template built a list of more than " +
                std::to_string(limits_.max_items) + " items (the list limit)");
    }
  }

private:
  Limits limits_;
  std::size_t steps_ = 0;
};

} // namespace mlxt::tokenizer::jinja
