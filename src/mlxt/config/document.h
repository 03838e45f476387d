// The stages of loading a TrainConfig, internal to the config module:
// read a file into a ConfigDocument (JSON values plus where each key was
// written), apply command-line overrides to it, then check and resolve it
// against the registry, collecting every problem before one Error is thrown.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/config/config.h"
#include "mlxt/core/error.h"

namespace mlxt::config::detail {

//! The name problems from overrides carry instead of a file.
inline constexpr const char* command_line_source = "command line";

struct ConfigDocument {
  std::string source; // the file, or the name given to from_json
  nlohmann::json values = nlohmann::json::object();
  // 1-based line where each dotted key (or list element "key[i]") was
  // written; YAML files only.
  std::map<std::string, long> lines;
  // Dotted keys set by overrides (their members came from there too).
  std::set<std::string> from_command_line;
};

//! An ErrorContext naming a file (and a line, and a key, when known).
inline ErrorContext
file_context(std::string file, long line = 0, std::string key = "") {
  return {.file = std::move(file), .line = line, .key = std::move(key)};
}

//! Where `key` (dotted, maybe with an "[i]" index) came from: the command
//! line, or the document's source and line.
ErrorContext where(const ConfigDocument& document, const std::string& key);

struct ConfigProblem {
  ErrorContext where;
  std::string message;
  bool unsupported = false; // a recognised value this version cannot handle
};

//! The text of a config file; Error(not_found) when it does not exist,
//! Error(io) when it cannot be read.
std::string read_config_text(const std::filesystem::path& file);

//! Reads a YAML file; keys keep their lines. Throws Error(not_found) for a
//! missing file, Error(invalid_config) for malformed YAML (with its line).
ConfigDocument read_yaml_config(const std::filesystem::path& file);

//! Reads a JSON file (no key lines; a syntax error names its line).
ConfigDocument read_json_config(const std::filesystem::path& file);

//! Wraps an already parsed object; Error(invalid_config) if not an object.
ConfigDocument document_from_json(const nlohmann::json& object,
                                  const std::string& source);

//! Parses each override by its key's type and sets it in `document`,
//! replacing every other spelling of the same setting; bad overrides are
//! added to `problems` and skipped.
void apply_overrides(ConfigDocument& document,
                     const std::vector<ConfigOverride>& overrides,
                     std::vector<ConfigProblem>& problems);

//! Checks every key and value of `document` against the registry and builds
//! the TrainConfig from the values that passed, adding each problem found
//! (unknown keys, types, rules, cross-key rules, required keys).
TrainConfig resolve_config(const ConfigDocument& document,
                           std::vector<ConfigProblem>& problems);

//! Throws one Error listing `problems` (none: returns).
void throw_if_problems(std::vector<ConfigProblem> problems,
                       const std::string& source);

} // namespace mlxt::config::detail
