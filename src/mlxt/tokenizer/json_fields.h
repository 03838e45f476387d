// Reading fields of tokenizer.json / tokenizer_config.json with errors that
// name the file and the JSON key, so a user can find the bad value.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "mlxt/core/error.h"

namespace mlxt::tokenizer::detail {

using nlohmann::json;

//! The error context {file, line, key}.
inline ErrorContext
where(const std::string& file, const std::string& key = "", long line = 0) {
  return ErrorContext{file, line, key};
}

//! Throws Error(invalid_model) "`message`" with context {file, key}.
[[noreturn]] void fail_invalid(const std::string& file,
                               const std::string& key,
                               const std::string& message);

//! Throws Error(unsupported) with context {file, key}.
[[noreturn]] void fail_unsupported(const std::string& file,
                                   const std::string& key,
                                   const std::string& message);

//! `parent[name]`; fails (invalid_model) when `parent` is not an object or
//! has no such key. `key` is the JSON path of the field, for the message.
const json& require_field(const json& parent,
                          const std::string& name,
                          const std::string& file,
                          const std::string& key);

//! `parent[name]` when present and not null, else nullptr.
const json* optional_field(const json& parent, const std::string& name);

//! `value` as a string; fails (invalid_model) for any other JSON type.
const std::string&
as_string(const json& value, const std::string& file, const std::string& key);

//! `parent[name]` as a string; fails when absent or not a string.
const std::string& string_field(const json& parent,
                                const std::string& name,
                                const std::string& file,
                                const std::string& key);

//! `parent[name]` as a bool, or `fallback` when absent or null.
bool bool_field_or(const json& parent,
                   const std::string& name,
                   bool fallback,
                   const std::string& file,
                   const std::string& key);

//! `parent[name]` as an int; fails when absent or not an integer.
int int_field(const json& parent,
              const std::string& name,
              const std::string& file,
              const std::string& key);

//! Short description of a JSON value's type for messages ("a string").
std::string describe_type(const json& value);

} // namespace mlxt::tokenizer::detail
