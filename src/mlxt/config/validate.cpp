// Checking a ConfigDocument against the registry and building the
// TrainConfig from it. Every problem is collected; values that fail are
// left at their defaults so the cross-key checks can still run.
#include <algorithm>
#include <climits>
#include <cmath>

#include "mlxt/config/document.h"
#include "mlxt/config/registry.h"
#include "mlxt/core/suggest.h"

namespace mlxt::config::detail {

using nlohmann::json;

namespace {

// A value as the user wrote it, for messages ("abc" quoted, 1e-05, inf).
std::string shown(const json& value) {
  if (value.is_number_float()) {
    return format_number(value.get<double>());
  }
  std::string text = value.dump();
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

bool is_whole(const json& value) {
  if (value.is_number_integer()) {
    return true;
  }
  if (!value.is_number_float()) {
    return false;
  }
  double d = value.get<double>();
  return std::isfinite(d) && d == std::floor(d);
}

class Checker {
public:
  Checker(const ConfigDocument& document, std::vector<ConfigProblem>& problems)
      : document_(document), problems_(problems) {}

  // Walks an object of the document; records each value that passes.
  void check_object(const json& object, const std::string& prefix) {
    for (const auto& [member, value] : object.items()) {
      std::string path = prefix.empty() ? member : prefix + "." + member;
      if (member.find('.') != std::string::npos) {
        report(path, "a key may not contain '.'; write nested mappings");
        continue;
      }
      const KeySpec* key = find_key(path);
      if (key == nullptr) {
        std::string suggestion = closest_key(path);
        report(path,
               "unknown key" + (suggestion.empty()
                                    ? std::string()
                                    : "; did you mean '" + suggestion + "'?"));
        continue;
      }
      if (key->role == KeyRole::ignored) {
        continue;
      }
      if (value.is_null()) {
        accepted_[path] = &value; // "not given": the default applies
        continue;
      }
      if (key->type == KeyType::object) {
        if (!value.is_object()) {
          report(path, "expected a mapping of keys, got " + shown(value));
          continue;
        }
        accepted_[path] = &value;
        if (key->role == KeyRole::section) {
          check_object(value, path);
        } else if (key->extra) {
          // A free-form object field: its own rule checks the members.
          if (auto complaint = key->extra(value)) {
            report(path, *complaint);
          }
        }
        continue;
      }
      if (check_value(*key, value, path)) {
        accepted_[path] = &value;
      }
    }
  }

  // The accepted value of `name`, or nullptr when absent or null.
  const json* given(const std::string& name) const {
    auto it = accepted_.find(name);
    return it == accepted_.end() || it->second->is_null() ? nullptr
                                                          : it->second;
  }
  const std::map<std::string, const json*>& accepted() const {
    return accepted_;
  }

  void report(const std::string& key,
              const std::string& message,
              bool unsupported = false) {
    problems_.push_back({where(document_, key), message, unsupported});
  }

private:
  bool
  check_value(const KeySpec& key, const json& value, const std::string& path) {
    switch (key.type) {
    case KeyType::string_list:
    case KeyType::number_list: {
      if (!value.is_array()) {
        report(path, "expected a list, got " + shown(value));
        return false;
      }
      KeyType element =
          key.type == KeyType::string_list ? KeyType::string : KeyType::number;
      bool ok = true;
      for (std::size_t i = 0; i < value.size(); ++i) {
        std::string element_path = path + "[" + std::to_string(i) + "]";
        ok = check_scalar(key, element, value[i], element_path) && ok;
      }
      if (ok && key.list_size && value.size() != key.list_size) {
        report(path,
               "expected " + std::to_string(key.list_size) + " values, got " +
                   std::to_string(value.size()));
        ok = false;
      }
      return ok;
    }
    default:
      return check_scalar(key, key.type, value, path);
    }
  }

  bool check_scalar(const KeySpec& key,
                    KeyType type,
                    const json& value,
                    const std::string& path) {
    switch (type) {
    case KeyType::integer:
      if (!is_whole(value)) {
        report(path, "expected an integer, got " + shown(value));
        return false;
      }
      if (value.get<double>() < INT_MIN || value.get<double>() > INT_MAX) {
        report(path, "too large for an integer, got " + shown(value));
        return false;
      }
      return check_range(key, value, path);
    case KeyType::number:
      if (!value.is_number()) {
        report(path, "expected a number, got " + shown(value));
        return false;
      }
      if (!std::isfinite(value.get<double>())) {
        report(path, "expected a finite number, got " + shown(value));
        return false;
      }
      return check_range(key, value, path);
    case KeyType::boolean:
      if (!value.is_boolean()) {
        report(path, "expected true or false, got " + shown(value));
        return false;
      }
      return true;
    case KeyType::string:
      if (!value.is_string()) {
        report(path, "expected a string, got " + shown(value));
        return false;
      }
      return check_string(key, value, path);
    default:
      // Lists and objects are checked by the caller, never here.
      fail(ErrorCode::internal,
           "no scalar check for this key type",
           file_context(document_.source, 0, path));
    }
  }

  bool
  check_range(const KeySpec& key, const json& value, const std::string& path) {
    double d = value.get<double>();
    if (key.special_value && is_whole(value) && d == *key.special_value) {
      return true;
    }
    bool low = key.min && (key.min_inclusive ? d < *key.min : d <= *key.min);
    bool high = key.max && (key.max_inclusive ? d > *key.max : d >= *key.max);
    if (low || high) {
      report(path, "must be " + key.rule_text() + ", got " + shown(value));
      return false;
    }
    return true;
  }

  bool
  check_string(const KeySpec& key, const json& value, const std::string& path) {
    const auto& text = value.get_ref<const std::string&>();
    if (key.non_empty && text.empty()) {
      report(path, "must not be empty");
      return false;
    }
    if (std::find(key.not_yet_supported.begin(),
                  key.not_yet_supported.end(),
                  text) != key.not_yet_supported.end()) {
      report(path,
             shown(value) + " is not supported yet; use " + key.rule_text(),
             /*unsupported=*/true);
      return false;
    }
    if (!key.allowed.empty() &&
        std::find(key.allowed.begin(), key.allowed.end(), text) ==
            key.allowed.end()) {
      std::string suggestion = closest_name(text, key.allowed);
      report(path,
             "must be " + key.rule_text() + ", got " + shown(value) +
                 (suggestion.empty() ? ""
                                     : "; did you mean '" + suggestion + "'?"));
      return false;
    }
    if (key.extra) {
      if (auto complaint = key.extra(value)) {
        report(path, *complaint);
        return false;
      }
    }
    return true;
  }

  const ConfigDocument& document_;
  std::vector<ConfigProblem>& problems_;
  std::map<std::string, const json*> accepted_;
};

// Aliases set the keys they stand for (for the chosen optimizer). One key
// given by two spellings in the same place is ambiguous; a command-line
// value beats a file's (`--optimizer_config.adamw.beta1` over a file's
// `betas`, whose beta2 still applies).
void apply_aliases(Checker& checker,
                   const ConfigDocument& document,
                   TrainConfig& config) {
  auto from_command_line = [&document](const std::string& key) {
    return where(document, key).file == command_line_source;
  };
  std::map<std::string, std::string> set_by; // key -> the spelling that set it
  for (const auto& key : config_keys()) {
    if (key.role == KeyRole::field && checker.given(key.name) != nullptr) {
      set_by[key.name] = key.name;
    }
  }
  for (const auto& key : config_keys()) {
    const json* value =
        key.role == KeyRole::alias ? checker.given(key.name) : nullptr;
    if (value == nullptr) {
      continue;
    }
    const auto targets = alias_targets(key, config.optimizer);
    const bool mine = from_command_line(key.name);
    auto same_place = std::find_if(
        targets.begin(), targets.end(), [&](const std::string& target) {
          auto earlier = set_by.find(target);
          return earlier != set_by.end() &&
                 from_command_line(earlier->second) == mine;
        });
    if (same_place != targets.end()) {
      checker.report(set_by[*same_place],
                     "sets the same option as '" + key.name +
                         "'; keep one of them");
      continue;
    }
    for (std::size_t i = 0; i < targets.size(); ++i) {
      auto [earlier, fresh] = set_by.try_emplace(targets[i], key.name);
      if (!fresh) {
        if (!mine) {
          continue; // the command line's value stands
        }
        earlier->second = key.name;
      }
      find_key(targets[i])
          ->set(config, targets.size() > 1 ? (*value)[i] : *value);
    }
  }
}

// The chosen optimizer's settings, completed with the catalogue's defaults:
// the resolved config shows every setting the run uses.
void fill_optimizer_defaults(TrainConfig& config) {
  const std::string block = "optimizer_config." + config.optimizer + ".";
  for (const auto& key : config_keys()) {
    if (key.role == KeyRole::field && key.name.starts_with(block) &&
        key.get(config).is_null()) {
      key.set(config, key.catalogue_default);
    }
  }
}

} // namespace

TrainConfig resolve_config(const ConfigDocument& document,
                           std::vector<ConfigProblem>& problems) {
  Checker checker(document, problems);
  checker.check_object(document.values, "");

  // Fields and sections in registry order: a section is created before its
  // members are written into it.
  TrainConfig config;
  for (const auto& key : config_keys()) {
    auto it = checker.accepted().find(key.name);
    if (it == checker.accepted().end() || !key.set) {
      continue;
    }
    if (key.role == KeyRole::section || !it->second->is_null()) {
      key.set(config, *it->second);
    }
  }
  apply_aliases(checker, document, config);
  fill_optimizer_defaults(config);

  auto has_problem = [&problems](const std::string& key) {
    return std::any_of(
        problems.begin(), problems.end(), [&key](const ConfigProblem& p) {
          return p.where.key == key || p.where.key.rfind(key + "[", 0) == 0;
        });
  };

  // Required keys, unless they were given and already reported as wrong.
  for (const auto& key : config_keys()) {
    if (!key.required || checker.given(key.name) != nullptr) {
      continue;
    }
    if (!has_problem(key.name)) {
      ErrorContext context = file_context(document.source, 0, key.name);
      problems.push_back(
          {context,
           "required but not given; set it in the config or with --" +
               key.name});
    }
  }

  // LoRA: alpha, when given, decides the scale.
  auto& lora = config.lora_parameters;
  if (lora.alpha) {
    float derived = *lora.alpha / static_cast<float>(lora.rank);
    const json* scale = checker.given("lora_parameters.scale");
    if (scale != nullptr &&
        std::abs(scale->get<double>() - derived) > 1e-6 * std::abs(derived)) {
      checker.report(
          "lora_parameters.scale",
          "conflicts with alpha: alpha / rank = " + format_number(derived) +
              ", got " + shown(*scale) + "; give only one of them");
    }
    lora.scale = derived;
  }

  // The schedule's arguments must fit its function (unless the name or the
  // arguments are already reported).
  if (config.lr_schedule && !has_problem("lr_schedule.name") &&
      !has_problem("lr_schedule.arguments")) {
    const auto& schedule = *config.lr_schedule;
    for (const auto& form : schedule_forms()) {
      if (form.name != schedule.name) {
        continue;
      }
      std::string signature;
      for (std::size_t i = 0; i < form.arguments.size(); ++i) {
        signature += (i ? ", " : "") + form.arguments[i].name;
      }
      std::size_t n = schedule.arguments.size();
      if (n < form.required || n > form.arguments.size()) {
        std::string count = form.required == form.arguments.size()
                                ? std::to_string(form.required)
                                : std::to_string(form.required) + " to " +
                                      std::to_string(form.arguments.size());
        checker.report("lr_schedule.arguments",
                       form.name + " takes " + count + " arguments [" +
                           signature + "], got " + std::to_string(n));
        break;
      }
      for (std::size_t i = 0; i < n; ++i) {
        double v = schedule.arguments[i];
        if (form.arguments[i].is_step_count && (v < 1 || v != std::floor(v))) {
          checker.report("lr_schedule.arguments[" + std::to_string(i) + "]",
                         form.arguments[i].name +
                             " must be a whole number >= 1, got " +
                             format_number(v));
        }
      }
    }
  }
  return config;
}

} // namespace mlxt::config::detail
