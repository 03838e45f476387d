// Jinja tests (`x is defined`, `n is divisibleby 3`, ...) as jinja2 defines
// them; an unknown test name fails with Fault(unsupported) naming it.
#pragma once

#include <string>

#include "mlxt/tokenizer/jinja/value.h"

namespace mlxt::tokenizer::jinja {

//! The result of `value is name(args)`.
bool apply_test(const std::string& name, const Value& value, CallArgs& args);

} // namespace mlxt::tokenizer::jinja
