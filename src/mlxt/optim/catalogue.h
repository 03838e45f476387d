// The catalogue: one table of the optimizers and learning-rate schedules,
// with each parameter's type, default and valid range. make_optimizer and
// make_schedule validate JSON parameters against it; optimizer_catalogue_json
// describes it for clients (a REST endpoint, docs).
#pragma once

#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/schedule.h"

namespace mlxt::optim {

enum class ParamType { number, integer, boolean };

//! "number", "integer", "boolean".
const char* param_type_name(ParamType type);

struct ParamSpec {
  std::string name;
  ParamType type;
  nlohmann::json default_value; // null: the parameter is required
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_inclusive = true;
  bool max_inclusive = true;
  std::string help;
};

//! Parameters after validation: every declared name, defaults filled in.
using ParamValues = nlohmann::json;

struct OptimizerSpec {
  std::string name;    // as in configs: "adamw"
  std::string paper;   // authors, year, title
  std::string formula; // the update, as in optimizer.h
  std::vector<ParamSpec> params;
  std::function<std::unique_ptr<Optimizer>(const ParamValues&, Schedule)> build;
};

struct ScheduleSpec {
  std::string name;
  std::string formula;
  std::vector<ParamSpec> params;
  std::function<Schedule(const ParamValues&)> build;
};

//! Every optimizer, in catalogue order.
const std::vector<OptimizerSpec>& optimizer_specs();
//! Every schedule, in catalogue order (combinators such as join_schedules and
//! with_warmup are not listed: they take schedules, not numbers).
const std::vector<ScheduleSpec>& schedule_specs();

//! The row of optimizer `name`. Throws Error(invalid_config) for an unknown
//! name, with a suggestion.
const OptimizerSpec& optimizer_spec(const std::string& name);

//! Builds optimizer `name` from JSON `params` (an object, or null for all
//! defaults) and the learning-rate schedule `lr`. Throws
//! Error(invalid_config) for an unknown name (with a suggestion), unknown
//! parameters, wrong types and out-of-range values, naming the key.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name,
                                          const nlohmann::json& params,
                                          Schedule lr);

//! Builds schedule `name` from JSON `params`, validated as make_optimizer's.
Schedule make_schedule(const std::string& name, const nlohmann::json& params);

//! {"optimizers": [...], "schedules": [...], "param_groups": {...}}: names,
//! papers, formulas and parameters (name, type, default, min, max,
//! inclusiveness, help), and the keys of a param_groups block.
nlohmann::json optimizer_catalogue_json();

//! Validates `params` against `specs` for "<what> '<owner>'" messages and
//! returns them with defaults filled in. Exposed for tests.
ParamValues resolve_params(const std::string& owner,
                           const std::vector<ParamSpec>& specs,
                           const nlohmann::json& params);

} // namespace mlxt::optim
