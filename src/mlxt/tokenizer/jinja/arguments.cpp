#include "mlxt/tokenizer/jinja/arguments.h"

#include "mlxt/tokenizer/jinja/fault.h"

namespace mlxt::tokenizer::jinja {

std::vector<Value> bind_args(const std::string& callee,
                             CallArgs& args,
                             const std::vector<Param>& params) {
  if (args.positional.size() > params.size()) {
    fault(FaultKind::runtime,
          callee + "() takes at most " + std::to_string(params.size()) +
              " arguments (" + std::to_string(args.positional.size()) +
              " given)");
  }
  std::vector<Value> out(params.size());
  std::vector<bool> given(params.size(), false);
  for (std::size_t i = 0; i < args.positional.size(); ++i) {
    out[i] = args.positional[i];
    given[i] = true;
  }
  for (auto& [key, value] : args.keyword) {
    std::size_t i = 0;
    while (i < params.size() && params[i].name != key) {
      ++i;
    }
    if (i == params.size()) {
      fault(FaultKind::runtime,
            callee + "() got an unexpected keyword argument '" + key + "'");
    }
    if (given[i]) {
      fault(FaultKind::runtime,
            callee + "() got multiple values for argument '" + key + "'");
    }
    out[i] = value;
    given[i] = true;
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!given[i]) {
      if (params[i].required) {
        fault(FaultKind::runtime,
              callee + "() missing required argument '" + params[i].name + "'");
      }
      out[i] = params[i].fallback;
    }
  }
  return out;
}

} // namespace mlxt::tokenizer::jinja
