// The public face of the config module: load, from_json, to_json and the
// option list, each a walk over the registry (registry.cpp).
#include "mlxt/config/config.h"

#include <algorithm>
#include <climits>
#include <sstream>

#include "mlxt/config/document.h"
#include "mlxt/config/registry.h"
#include "mlxt/core/ascii.h"

namespace mlxt::config {

using nlohmann::json;

namespace detail {

void throw_if_problems(std::vector<ConfigProblem> problems,
                       const std::string& source) {
  if (problems.empty()) {
    return;
  }
  bool all_unsupported =
      std::all_of(problems.begin(), problems.end(), [](const ConfigProblem& p) {
        return p.unsupported;
      });
  ErrorCode code =
      all_unsupported ? ErrorCode::unsupported : ErrorCode::invalid_config;
  if (problems.size() == 1) {
    throw Error(code, problems[0].message, problems[0].where);
  }
  // File problems in line order, then those without a line, then the
  // command line's.
  auto rank = [](const ConfigProblem& p) {
    bool command_line = p.where.file == command_line_source;
    return std::pair(command_line, p.where.line > 0 ? p.where.line : LONG_MAX);
  };
  std::stable_sort(problems.begin(),
                   problems.end(),
                   [&rank](const ConfigProblem& a, const ConfigProblem& b) {
                     return rank(a) < rank(b);
                   });
  std::string message = std::to_string(problems.size()) + " problems:";
  for (const auto& p : problems) {
    // Error formats "file:line: key: message"; reuse it for each line.
    message += "\n  " + std::string(Error(code, p.message, p.where).what());
  }
  throw Error(code, message, detail::file_context(source));
}

} // namespace detail

namespace {

// "lora_parameters.rank" -> /lora_parameters/rank
json::json_pointer dotted_pointer(std::string name) {
  std::replace(name.begin(), name.end(), '.', '/');
  return json::json_pointer("/" + name);
}

} // namespace

TrainConfig load_train_config(const std::filesystem::path& file,
                              const std::vector<ConfigOverride>& overrides) {
  detail::ConfigDocument document;
  if (file.empty()) {
    document.source = "defaults";
  } else {
    const std::string extension = ascii_lower(file.extension().string());
    if (extension == ".yaml" || extension == ".yml") {
      document = detail::read_yaml_config(file);
    } else if (extension == ".json") {
      document = detail::read_json_config(file);
    } else {
      fail(ErrorCode::invalid_config,
           "unknown config file type '" + extension +
               "'; use .yaml, .yml or .json",
           detail::file_context(file.string()));
    }
  }
  std::vector<detail::ConfigProblem> problems;
  detail::apply_overrides(document, overrides, problems);
  TrainConfig config = detail::resolve_config(document, problems);
  detail::throw_if_problems(std::move(problems), document.source);
  return config;
}

TrainConfig train_config_from_json(const json& object,
                                   const std::string& source) {
  auto document = detail::document_from_json(object, source);
  std::vector<detail::ConfigProblem> problems;
  TrainConfig config = detail::resolve_config(document, problems);
  detail::throw_if_problems(std::move(problems), source);
  return config;
}

json TrainConfig::to_json() const {
  json out = json::object();
  std::vector<std::string> unset_sections;
  for (const auto& key : detail::config_keys()) {
    if (!key.get) {
      continue; // aliases, ignored keys, sections without a field
    }
    bool in_unset_section =
        std::any_of(unset_sections.begin(),
                    unset_sections.end(),
                    [&key](const std::string& section) {
                      return key.name.rfind(section + ".", 0) == 0;
                    });
    if (in_unset_section) {
      continue;
    }
    json value = key.get(*this);
    if (key.role == detail::KeyRole::section && value.is_null()) {
      unset_sections.push_back(key.name);
      // optimizer_config lists only the optimizers that have settings.
      if (key.name.find('.') != std::string::npos) {
        continue;
      }
    }
    out[dotted_pointer(key.name)] = std::move(value);
  }
  return out;
}

std::string describe_train_options() {
  const TrainConfig defaults;
  std::ostringstream out;
  for (const auto& key : detail::config_keys()) {
    out << key.name << " ("
        << (key.role == detail::KeyRole::ignored
                ? "any"
                : detail::key_type_name(key.type));
    if (key.required) {
      out << ", required";
    } else if (key.get && key.role == detail::KeyRole::field) {
      json value = key.get(defaults);
      if (value.is_null()) {
        value = key.catalogue_default; // optimizer settings
      }
      out << ", default "
          << (value.is_null() ? std::string("none") : value.dump());
    }
    out << "): " << key.help;
    std::string rule = key.rule_text();
    if (!rule.empty() && key.role != detail::KeyRole::alias) {
      out << " [" << rule << "]";
    }
    if (!key.not_yet_supported.empty() && key.role != detail::KeyRole::alias) {
      out << " [not supported yet:";
      for (const auto& value : key.not_yet_supported) {
        out << " " << value;
      }
      out << "]";
    }
    out << "\n";
  }
  return out.str();
}

} // namespace mlxt::config
