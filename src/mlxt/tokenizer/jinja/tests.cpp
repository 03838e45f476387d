#include "mlxt/tokenizer/jinja/tests.h"

#include <cctype>

#include "mlxt/tokenizer/jinja/arguments.h"
#include "mlxt/tokenizer/jinja/fault.h"
#include "mlxt/tokenizer/jinja/operators.h"

namespace mlxt::tokenizer::jinja {

namespace {

Value one_arg(const std::string& name, CallArgs& args) {
  return bind_args(name, args, {{"other", {}, true}})[0];
}

std::int64_t int_of(const Value& v, const std::string& test) {
  if (v.is_int() || v.is_bool()) {
    return v.is_int() ? v.as_int() : v.as_bool();
  }
  require_defined(v);
  fault(FaultKind::runtime,
        "the '" + test + "' test needs an integer, not " + v.type_name());
}

bool same_object(const Value& a, const Value& b) {
  if (a.is_list() && b.is_list()) {
    return &a.as_list() == &b.as_list();
  }
  if (a.is_dict() && b.is_dict()) {
    return &a.as_dict() == &b.as_dict();
  }
  return a.type_name() == b.type_name() && a.equals(b);
}

} // namespace

bool apply_test(const std::string& name, const Value& value, CallArgs& args) {
  auto no_args = [&] { bind_args(name, args, {}); };
  if (name == "defined" || name == "undefined") {
    no_args();
    return value.is_undefined() == (name == "undefined");
  }
  if (name == "none") {
    no_args();
    return value.is_none();
  }
  if (name == "boolean") {
    no_args();
    return value.is_bool();
  }
  if (name == "true" || name == "false") {
    no_args();
    return value.is_bool() && value.as_bool() == (name == "true");
  }
  if (name == "integer") {
    no_args();
    return value.is_int();
  }
  if (name == "float") {
    no_args();
    return value.is_float();
  }
  if (name == "number") {
    no_args();
    return value.is_number() || value.is_bool();
  }
  if (name == "string") {
    no_args();
    return value.is_string();
  }
  if (name == "mapping") {
    no_args();
    return value.is_dict() && !value.as_dict().is_namespace;
  }
  if (name == "iterable") {
    no_args();
    return value.is_undefined() || value.is_string() || value.is_list() ||
           (value.is_dict() && !value.as_dict().is_namespace);
  }
  if (name == "sequence") {
    no_args();
    return value.is_string() || value.is_list() ||
           (value.is_dict() && !value.as_dict().is_namespace);
  }
  if (name == "callable") {
    no_args();
    return value.is_callable();
  }
  if (name == "even" || name == "odd") {
    no_args();
    std::int64_t n = int_of(value, name);
    return (n % 2 == 0) == (name == "even");
  }
  if (name == "divisibleby") {
    std::int64_t d = int_of(one_arg(name, args), name);
    if (d == 0) {
      fault(FaultKind::runtime, "integer division or modulo by zero");
    }
    return int_of(value, name) % d == 0;
  }
  if (name == "eq" || name == "equalto" || name == "==") {
    return compare_op("==", value, one_arg(name, args));
  }
  if (name == "ne" || name == "!=") {
    return compare_op("!=", value, one_arg(name, args));
  }
  if (name == "lt" || name == "lessthan" || name == "<") {
    return compare_op("<", value, one_arg(name, args));
  }
  if (name == "le" || name == "<=") {
    return compare_op("<=", value, one_arg(name, args));
  }
  if (name == "gt" || name == "greaterthan" || name == ">") {
    return compare_op(">", value, one_arg(name, args));
  }
  if (name == "ge" || name == ">=") {
    return compare_op(">=", value, one_arg(name, args));
  }
  if (name == "in") {
    return contains(one_arg(name, args), value);
  }
  if (name == "sameas") {
    return same_object(value, one_arg(name, args));
  }
  if (name == "lower" || name == "upper") {
    no_args();
    if (!value.is_string()) {
      return false;
    }
    bool cased = false;
    for (unsigned char c : value.as_string()) {
      if (std::isalpha(c)) {
        cased = true;
        if ((std::isupper(c) != 0) != (name == "upper")) {
          return false;
        }
      }
    }
    return cased;
  }
  fault(FaultKind::unsupported, "no test named '" + name + "'");
}

} // namespace mlxt::tokenizer::jinja
