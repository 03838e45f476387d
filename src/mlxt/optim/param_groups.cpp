// Reading the param_groups JSON and assigning every parameter to a group.
#include "mlxt/optim/param_groups.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "mlxt/core/error.h"
#include "mlxt/core/suggest.h"
#include "mlxt/optim/catalogue.h"

namespace mlxt::optim {

namespace {

using nlohmann::json;

constexpr const char* kSection = "param_groups";
const std::string kDefaultGroup = "default";

[[noreturn]] void bad(const std::string& key, const std::string& message) {
  fail(ErrorCode::invalid_config,
       "[param_groups] " + key + " " + message,
       {.key = key});
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    out += (out.empty() ? "" : ", ") + n;
  }
  return out;
}

void check_known_keys(const json& object,
                      const std::string& where,
                      const std::vector<std::string>& allowed) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      const auto near = closest_name(key, allowed);
      bad(where + "." + key,
          "is not a known key" +
              (near.empty() ? "" : "; did you mean '" + near + "'?") +
              " Allowed: " + join(allowed) + ".");
    }
  }
}

// A pattern list: one string or an array of non-empty strings.
std::vector<std::string> read_patterns(const json& value,
                                       const std::string& key) {
  std::vector<std::string> out;
  if (value.is_string()) {
    out.push_back(value.get<std::string>());
  } else if (value.is_array()) {
    for (const auto& p : value) {
      if (!p.is_string()) {
        bad(key,
            "must list strings, but holds " + std::string(p.type_name()) + " " +
                p.dump() + ".");
      }
      out.push_back(p.get<std::string>());
    }
  } else {
    bad(key,
        "must be a string or a list of strings, but received " +
            std::string(value.type_name()) + ".");
  }
  if (out.empty()) {
    bad(key, "must hold at least one pattern.");
  }
  for (const auto& p : out) {
    if (p.empty()) {
      bad(key, "holds an empty pattern.");
    }
  }
  return out;
}

bool any_matches(const std::vector<std::string>& patterns,
                 const std::string& name) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const auto& p) {
    return pattern_matches(p, name);
  });
}

double read_number(const json& value, const std::string& key, bool zero_ok) {
  if (!value.is_number() || !std::isfinite(value.get<double>()) ||
      value.get<double>() < 0.0 || (!zero_ok && value.get<double>() == 0.0)) {
    bad(key,
        std::string("must be a finite number ") + (zero_ok ? ">= 0" : "> 0") +
            ", but received " + value.dump() + ".");
  }
  return value.get<double>();
}

// A rule as written: its patterns, optimizer overrides and LR multiplier.
struct Rule {
  std::string name;
  std::vector<std::string> match;
  json overrides = json::object();
  double lr_scale = 1.0;
};

Rule read_rule(const json& g,
               size_t i,
               const OptimizerSpec& spec,
               double base_lr) {
  const std::string where =
      std::string(kSection) + ".groups[" + std::to_string(i) + "]";
  if (!g.is_object()) {
    bad(where,
        "must be an object with \"match\", but received " +
            std::string(g.type_name()) + ".");
  }
  std::vector<std::string> allowed{"name", "match", "lr", "lr_scale"};
  for (const auto& p : spec.params) {
    allowed.push_back(p.name);
  }
  check_known_keys(g, where, allowed);

  Rule rule;
  rule.name = "group" + std::to_string(i);
  if (g.contains("name")) {
    if (!g["name"].is_string() || g["name"].get<std::string>().empty()) {
      bad(where + ".name", "must be a non-empty string.");
    }
    rule.name = g["name"].get<std::string>();
  }
  if (!g.contains("match")) {
    bad(where + ".match",
        "is required: the parameter-name patterns this group takes.");
  }
  rule.match = read_patterns(g["match"], where + ".match");
  if (g.contains("lr") && g.contains("lr_scale")) {
    bad(where + ".lr", "and lr_scale are alternatives; give one.");
  }
  if (g.contains("lr_scale")) {
    rule.lr_scale = read_number(g["lr_scale"], where + ".lr_scale", true);
  }
  if (g.contains("lr")) {
    const double lr = read_number(g["lr"], where + ".lr", false);
    if (!(base_lr > 0.0)) {
      bad(where + ".lr",
          "needs the base learning rate to scale the schedule by, and none "
          "was given; use lr_scale instead.");
    }
    rule.lr_scale = lr / base_lr;
  }
  for (const auto& [key, value] : g.items()) {
    if (key != "name" && key != "match" && key != "lr" && key != "lr_scale") {
      rule.overrides[key] = value;
    }
  }
  return rule;
}

// The resolved base hyper-parameters with `overrides`, validated by the
// catalogue; errors name the key under `where`.
json resolve_group(const OptimizerSpec& spec,
                   const json& base,
                   const json& overrides,
                   const std::string& where) {
  json merged = base;
  merged.update(overrides);
  try {
    return resolve_params(spec.name, spec.params, merged);
  } catch (const Error& e) {
    fail(e.code(),
         std::string(e.message()) + " (in " + where + ")",
         {.key =
              e.context().key.empty() ? where : where + "." + e.context().key});
  }
}

bool has_param(const OptimizerSpec& spec, const std::string& key) {
  return std::any_of(spec.params.begin(),
                     spec.params.end(),
                     [&](const ParamSpec& p) { return p.name == key; });
}

} // namespace

bool pattern_matches(const std::string& pattern,
                     const std::string& param_name) {
  if (pattern.find_first_of("*?[") != std::string::npos) {
    return fnmatch(pattern.c_str(), param_name.c_str(), 0) == 0;
  }
  return param_name.find(pattern) != std::string::npos;
}

GroupPlan plan_param_groups(const std::string& name,
                            const nlohmann::json& params,
                            const nlohmann::json& groups_json,
                            const std::vector<std::string>& param_names,
                            double base_lr) {
  const OptimizerSpec& spec = optimizer_spec(name);
  // The base parameters' own problems are reported as make_optimizer would.
  const json base = resolve_params(name, spec.params, params);
  if (!groups_json.is_null() && !groups_json.is_object()) {
    bad(kSection,
        "must be an object with \"weight_decay_exclude\" and/or \"groups\", "
        "but received " +
            std::string(groups_json.type_name()) + ".");
  }
  const json cfg = groups_json.is_null() ? json::object() : groups_json;
  check_known_keys(cfg, kSection, {"weight_decay_exclude", "groups"});

  std::vector<std::string> exclude;
  if (cfg.contains("weight_decay_exclude") &&
      !cfg["weight_decay_exclude"].is_null()) {
    exclude = read_patterns(cfg["weight_decay_exclude"],
                            std::string(kSection) + ".weight_decay_exclude");
  }
  std::vector<Rule> rules;
  if (cfg.contains("groups") && !cfg["groups"].is_null()) {
    if (!cfg["groups"].is_array()) {
      bad(std::string(kSection) + ".groups",
          "must be a list of groups, but received " +
              std::string(cfg["groups"].type_name()) + ".");
    }
    for (size_t i = 0; i < cfg["groups"].size(); ++i) {
      rules.push_back(read_rule(cfg["groups"][i], i, spec, base_lr));
      const auto& name = rules.back().name;
      const bool taken =
          name == kDefaultGroup ||
          std::any_of(rules.begin(), rules.end() - 1, [&](const Rule& r) {
            return r.name == name;
          });
      if (taken) {
        bad(std::string(kSection) + ".groups[" + std::to_string(i) + "].name",
            "'" + name +
                "' is taken; give every group its own name (not "
                "'default').");
      }
    }
  }

  // Each parameter: the first rule that matches (-1: default), and whether
  // weight decay is excluded.
  std::vector<std::pair<int, bool>> key_of(param_names.size());
  std::vector<size_t> rule_hits(rules.size(), 0);
  for (size_t i = 0; i < param_names.size(); ++i) {
    int rule = -1;
    for (size_t r = 0; r < rules.size() && rule < 0; ++r) {
      if (any_matches(rules[r].match, param_names[i])) {
        rule = static_cast<int>(r);
        ++rule_hits[r];
      }
    }
    key_of[i] = {rule, any_matches(exclude, param_names[i])};
  }
  for (size_t r = 0; r < rules.size(); ++r) {
    if (rule_hits[r] > 0) {
      continue;
    }
    const std::string key =
        std::string(kSection) + ".groups[" + std::to_string(r) + "].match";
    const std::string group = "(group '" + rules[r].name + "', patterns " +
                              join(rules[r].match) + ")";
    for (size_t i = 0; i < param_names.size(); ++i) {
      if (any_matches(rules[r].match, param_names[i])) {
        bad(key,
            group +
                " takes no parameter: the first group that matches wins, "
                "and '" +
                param_names[i] + "' went to group '" +
                rules[key_of[i].first].name +
                "'; list the narrower group first.");
      }
    }
    std::vector<std::string> some(param_names.begin(),
                                  param_names.begin() +
                                      std::min<size_t>(3, param_names.size()));
    bad(key,
        group + " matches no parameter; parameter names look like " +
            join(some) + (param_names.size() > 3 ? ", ..." : "") +
            ". A pattern with * ? [ must match the whole name; a plain "
            "word matches anywhere in it.");
  }

  GroupPlan plan;
  plan.group_of.resize(param_names.size());
  std::map<std::pair<int, bool>, size_t> made;
  for (size_t i = 0; i < param_names.size(); ++i) {
    auto [it, fresh] = made.try_emplace(key_of[i], plan.groups.size());
    if (fresh) {
      const auto [rule, no_decay] = key_of[i];
      ParamGroup g;
      const std::string where = rule < 0 ? "optimizer parameters"
                                         : std::string(kSection) + ".groups[" +
                                               std::to_string(rule) + "]";
      g.name = rule < 0 ? kDefaultGroup : rules[rule].name;
      g.params = resolve_group(
          spec, base, rule < 0 ? json::object() : rules[rule].overrides, where);
      g.lr_scale = rule < 0 ? 1.0 : rules[rule].lr_scale;
      if (no_decay && has_param(spec, "weight_decay")) {
        g.name += "/no_decay";
        g.params["weight_decay"] = 0.0;
      }
      if (g.params.value("relative_step", false) && g.lr_scale != 1.0) {
        bad(where + ".lr_scale",
            "scales the learning rate, but this group uses Adafactor's "
            "relative step, which ignores it; set relative_step false or "
            "drop lr/lr_scale.");
      }
      plan.groups.push_back(std::move(g));
    }
    plan.group_of[i] = it->second;
    plan.groups[it->second].index.push_back(i);
  }
  return plan;
}

nlohmann::json param_groups_schema_json() {
  return {
      {"weight_decay_exclude",
       "patterns; matching parameters get weight_decay 0 in any group"},
      {"groups",
       {{"name", "group name (default: group<i>; 'default' is reserved)"},
        {"match",
         "required; patterns: a glob (* ? [) over the whole name, or a word "
         "found anywhere in it; the first matching group wins"},
        {"lr_scale", "number >= 0 multiplying the learning-rate schedule"},
        {"lr",
         "number > 0: the group's learning rate; the schedule is scaled by "
         "lr / learning_rate (an alternative to lr_scale)"},
        {"<optimizer parameter>",
         "any parameter of the optimizer, overriding it for this group"}}}};
}

nlohmann::json describe_plan(const GroupPlan& plan,
                             const std::vector<std::string>& param_names) {
  json groups = json::array();
  for (const auto& g : plan.groups) {
    json members = json::array();
    for (size_t i : g.index) {
      members.push_back(i < param_names.size() ? param_names[i]
                                               : std::to_string(i));
    }
    groups.push_back({{"name", g.name},
                      {"lr_scale", g.lr_scale},
                      {"params", g.params},
                      {"members", members}});
  }
  return {{"groups", groups}};
}

} // namespace mlxt::optim
