// Validation of catalogue parameters, name suggestions, building by name and
// the catalogue's JSON description.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "mlxt/core/error.h"
#include "mlxt/core/suggest.h"
#include "mlxt/optim/catalogue.h"
#include "mlxt/optim/param_groups.h"

namespace mlxt::optim {

namespace {

using nlohmann::json;

// "; did you mean 'x'?" for a name close enough to be a typo, else "." to
// end the sentence.
std::string suggestion(const std::string& unknown,
                       const std::vector<std::string>& names) {
  std::string best = closest_name(unknown, names);
  return best.empty() ? "." : "; did you mean '" + best + "'?";
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    out += (out.empty() ? "" : ", ") + n;
  }
  return out;
}

std::string format_number(double x) {
  if (std::isinf(x)) {
    return x > 0 ? "inf" : "-inf";
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", x);
  return buf;
}

// "[0, 1)", "(0, inf)".
std::string range_text(const ParamSpec& spec) {
  return std::string(spec.min_inclusive ? "[" : "(") + format_number(spec.min) +
         ", " + format_number(spec.max) + (spec.max_inclusive ? "]" : ")");
}

bool in_range(const ParamSpec& spec, double x) {
  bool above = spec.min_inclusive ? x >= spec.min : x > spec.min;
  bool below = spec.max_inclusive ? x <= spec.max : x < spec.max;
  return std::isfinite(x) && above && below;
}

const char* json_type_name(const json& value) {
  if (value.is_number_integer()) {
    return "integer";
  }
  return value.type_name();
}

// The problem with `value` for `spec`, or "" when it is valid.
std::string check_value(const ParamSpec& spec, const json& value) {
  const std::string wanted =
      std::string("must be ") + (spec.type == ParamType::boolean ? "a boolean"
                                 : spec.type == ParamType::integer
                                     ? "an integer in " + range_text(spec)
                                     : "a number in " + range_text(spec));
  const std::string received = ", but received " +
                               std::string(json_type_name(value)) + " " +
                               value.dump();
  switch (spec.type) {
  case ParamType::boolean:
    return value.is_boolean() ? "" : wanted + received;
  case ParamType::integer:
    if (!value.is_number_integer()) {
      return wanted + received;
    }
    break;
  case ParamType::number:
    if (!value.is_number()) {
      return wanted + received;
    }
    break;
  }
  return in_range(spec, value.get<double>())
             ? ""
             : wanted + ", but received " + value.dump();
}

std::vector<std::string> names_of(const std::vector<ParamSpec>& specs) {
  std::vector<std::string> names;
  for (const auto& s : specs) {
    names.push_back(s.name);
  }
  return names;
}

template <typename Spec>
const Spec& find_spec(const char* op,
                      const char* kind,
                      const std::vector<Spec>& specs,
                      const std::string& name) {
  std::vector<std::string> names;
  for (const auto& s : specs) {
    if (s.name == name) {
      return s;
    }
    names.push_back(s.name);
  }
  fail(ErrorCode::invalid_config,
       std::string("[") + op + "] unknown " + kind + " '" + name + "'" +
           suggestion(name, names) + " Allowed: " + join(names) + ".",
       {.key = kind});
}

json param_json(const ParamSpec& spec) {
  auto bound = [](double x) { return std::isinf(x) ? json() : json(x); };
  json out{{"name", spec.name},
           {"type", param_type_name(spec.type)},
           {"default", spec.default_value},
           {"required", spec.default_value.is_null()},
           {"help", spec.help}};
  if (spec.type != ParamType::boolean) {
    out["min"] = bound(spec.min);
    out["max"] = bound(spec.max);
    out["min_inclusive"] = spec.min_inclusive;
    out["max_inclusive"] = spec.max_inclusive;
  }
  return out;
}

json params_json(const std::vector<ParamSpec>& specs) {
  json out = json::array();
  for (const auto& s : specs) {
    out.push_back(param_json(s));
  }
  return out;
}

} // namespace

const char* param_type_name(ParamType type) {
  switch (type) {
  case ParamType::number:
    return "number";
  case ParamType::integer:
    return "integer";
  case ParamType::boolean:
    return "boolean";
  }
  return "unknown";
}

ParamValues resolve_params(const std::string& owner,
                           const std::vector<ParamSpec>& specs,
                           const nlohmann::json& params) {
  if (!params.is_null() && !params.is_object()) {
    fail(ErrorCode::invalid_config,
         "[" + owner + "] parameters must be a JSON object, but received " +
             std::string(params.type_name()) + ".");
  }
  // Every problem at once, in one message; the context names the first key.
  std::vector<std::string> problems;
  std::string first_key;
  auto report = [&](const std::string& key, const std::string& problem) {
    if (first_key.empty()) {
      first_key = key;
    }
    problems.push_back(problem);
  };
  const json given = params.is_null() ? json::object() : params;
  const auto allowed = names_of(specs);
  for (const auto& [key, value] : given.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      report(key,
             owner + " has no parameter '" + key + "'" +
                 suggestion(key, allowed) + " Allowed: " + join(allowed) + ".");
    }
  }
  ParamValues values = json::object();
  for (const auto& spec : specs) {
    auto it = given.find(spec.name);
    if (it == given.end()) {
      if (spec.default_value.is_null()) {
        report(spec.name,
               owner + "." + spec.name + " is required (" +
                   param_type_name(spec.type) + " in " + range_text(spec) +
                   ").");
      }
      values[spec.name] = spec.default_value;
      continue;
    }
    if (auto problem = check_value(spec, *it); !problem.empty()) {
      report(spec.name, owner + "." + spec.name + " " + problem + ".");
    }
    values[spec.name] = *it;
  }
  if (!problems.empty()) {
    std::string message = "[" + owner + "] ";
    for (size_t i = 0; i < problems.size(); ++i) {
      message += (i ? " " : "") + problems[i];
    }
    fail(ErrorCode::invalid_config, message, {.key = first_key});
  }
  return values;
}

const OptimizerSpec& optimizer_spec(const std::string& name) {
  return find_spec("make_optimizer", "optimizer", optimizer_specs(), name);
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name,
                                          const nlohmann::json& params,
                                          Schedule lr) {
  const auto& spec = optimizer_spec(name);
  return spec.build(resolve_params(name, spec.params, params), std::move(lr));
}

Schedule make_schedule(const std::string& name, const nlohmann::json& params) {
  const auto& spec =
      find_spec("make_schedule", "schedule", schedule_specs(), name);
  return spec.build(resolve_params(name, spec.params, params));
}

nlohmann::json optimizer_catalogue_json() {
  json optimizers = json::array();
  for (const auto& s : optimizer_specs()) {
    optimizers.push_back({{"name", s.name},
                          {"paper", s.paper},
                          {"formula", s.formula},
                          {"parameters", params_json(s.params)}});
  }
  json schedules = json::array();
  for (const auto& s : schedule_specs()) {
    schedules.push_back({{"name", s.name},
                         {"formula", s.formula},
                         {"parameters", params_json(s.params)}});
  }
  return {{"optimizers", optimizers},
          {"schedules", schedules},
          {"param_groups", param_groups_schema_json()}};
}

} // namespace mlxt::optim
