#include "mlxt/core/params.h"

#include "mlxt/core/error.h"

namespace mlxt {

std::vector<std::string> param_names(const Params& params) {
  std::vector<std::string> names;
  names.reserve(params.size());
  for (const auto& [name, _] : params) {
    names.push_back(name);
  }
  return names;
}

std::vector<mx::array> param_values(const Params& params) {
  std::vector<mx::array> values;
  values.reserve(params.size());
  for (const auto& [_, value] : params) {
    values.push_back(value);
  }
  return values;
}

Params zip_params(const std::vector<std::string>& names,
                  const std::vector<mx::array>& values) {
  if (names.size() != values.size()) {
    fail(ErrorCode::internal,
         "zip_params: " + std::to_string(names.size()) + " names but " +
             std::to_string(values.size()) + " arrays");
  }
  Params params;
  for (size_t i = 0; i < names.size(); ++i) {
    params.insert_or_assign(names[i], values[i]);
  }
  return params;
}

const mx::array& param(const Params& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end()) {
    fail(ErrorCode::internal, "missing parameter", {.key = name});
  }
  return it->second;
}

size_t param_count(const Params& params) {
  size_t n = 0;
  for (const auto& [_, value] : params) {
    n += value.size();
  }
  return n;
}

} // namespace mlxt
