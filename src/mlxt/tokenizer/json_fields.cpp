#include "mlxt/tokenizer/json_fields.h"

#include <limits>

#include "mlxt/core/error.h"

namespace mlxt::tokenizer::detail {

void fail_invalid(const std::string& file,
                  const std::string& key,
                  const std::string& message) {
  fail(ErrorCode::invalid_model, message, where(file, key));
}

void fail_unsupported(const std::string& file,
                      const std::string& key,
                      const std::string& message) {
  fail(ErrorCode::unsupported, message, where(file, key));
}

std::string describe_type(const json& value) {
  switch (value.type()) {
  case json::value_t::null:
    return "null";
  case json::value_t::object:
    return "an object";
  case json::value_t::array:
    return "an array";
  case json::value_t::string:
    return "a string";
  case json::value_t::boolean:
    return "a boolean";
  case json::value_t::number_integer:
  case json::value_t::number_unsigned:
    return "an integer";
  case json::value_t::number_float:
    return "a float";
  default:
    return "an unknown JSON value";
  }
}

const json& require_field(const json& parent,
                          const std::string& name,
                          const std::string& file,
                          const std::string& key) {
  if (!parent.is_object()) {
    fail_invalid(file,
                 key,
                 "expected an object holding \"" + name + "\" but received " +
                     describe_type(parent));
  }
  auto it = parent.find(name);
  if (it == parent.end()) {
    fail_invalid(file, key, "missing required key");
  }
  return *it;
}

const json* optional_field(const json& parent, const std::string& name) {
  if (!parent.is_object()) {
    return nullptr;
  }
  auto it = parent.find(name);
  if (it == parent.end() || it->is_null()) {
    return nullptr;
  }
  return &*it;
}

const std::string&
as_string(const json& value, const std::string& file, const std::string& key) {
  if (!value.is_string()) {
    fail_invalid(
        file, key, "expected a string but received " + describe_type(value));
  }
  return value.get_ref<const std::string&>();
}

const std::string& string_field(const json& parent,
                                const std::string& name,
                                const std::string& file,
                                const std::string& key) {
  return as_string(require_field(parent, name, file, key), file, key);
}

bool bool_field_or(const json& parent,
                   const std::string& name,
                   bool fallback,
                   const std::string& file,
                   const std::string& key) {
  const json* value = optional_field(parent, name);
  if (value == nullptr) {
    return fallback;
  }
  if (!value->is_boolean()) {
    fail_invalid(
        file, key, "expected a boolean but received " + describe_type(*value));
  }
  return value->get<bool>();
}

int int_field(const json& parent,
              const std::string& name,
              const std::string& file,
              const std::string& key) {
  const json& value = require_field(parent, name, file, key);
  if (!value.is_number_integer()) {
    fail_invalid(
        file, key, "expected an integer but received " + describe_type(value));
  }
  auto number = value.get<long long>();
  if (number < 0 || number > std::numeric_limits<int>::max()) {
    fail_invalid(file,
                 key,
                 "expected a token id in [0, 2^31) but received " +
                     std::to_string(number));
  }
  return static_cast<int>(number);
}

} // namespace mlxt::tokenizer::detail
