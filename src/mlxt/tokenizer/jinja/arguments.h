// Binding call arguments to a Python-style signature, so filters, tests and
// methods accept positional and keyword arguments the way jinja2's do.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "mlxt/tokenizer/jinja/value.h"

namespace mlxt::tokenizer::jinja {

struct Param {
  std::string name;
  Value fallback; // undefined with required = true: must be given
  bool required = false;
};

//! The arguments of `callee` in parameter order; throws Fault(runtime) for
//! a missing required, an unknown keyword or too many positional arguments.
std::vector<Value> bind_args(const std::string& callee,
                             CallArgs& args,
                             const std::vector<Param>& params);

} // namespace mlxt::tokenizer::jinja
