// The values a Jinja template computes with, modelled on the Python objects
// jinja2 hands around: undefined, None, bool, int, float, str, list/tuple,
// dict (insertion-ordered, string keys), namespace and callables. Printing,
// truthiness, comparison and JSON follow Python so rendered text matches
// jinja2 byte for byte.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::tokenizer::jinja {

class Value;

struct Undefined {
  std::string name; // what was looked up, for "'x' is undefined"
};
struct None {};

struct List {
  std::vector<Value> items;
  bool is_tuple = false;        // only changes how it prints: (1, 2) vs [1, 2]
  int depth = 1;                // nesting height, kept by Value::list
  bool holds_namespace = false; // a namespace somewhere inside
};

//! A Python dict with string keys in insertion order; also a jinja2
//! namespace() object, the one mutable kind a template may assign into.
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  bool is_namespace = false;
  int depth = 1;                // nesting height, kept by set()
  bool holds_namespace = false; // a namespace somewhere inside

  const Value* find(std::string_view key) const;
  //! Sets `key` (appending a new key) and updates depth.
  void set(const std::string& key, Value value);
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

struct Callable {
  std::string name;
  std::function<Value(CallArgs&)> call;
};

class Value {
public:
  using Storage = std::variant<Undefined,
                               None,
                               bool,
                               std::int64_t,
                               double,
                               std::string,
                               std::shared_ptr<List>,
                               std::shared_ptr<Dict>,
                               std::shared_ptr<Callable>>;

  Value() : v_(Undefined{}) {}
  Value(Undefined u) : v_(std::move(u)) {}
  Value(None n) : v_(n) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(std::int64_t{i}) {}
  Value(std::int64_t i) : v_(i) {}
  Value(double d) : v_(d) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::shared_ptr<List> l) : v_(std::move(l)) {}
  Value(std::shared_ptr<Dict> d) : v_(std::move(d)) {}
  Value(std::shared_ptr<Callable> c) : v_(std::move(c)) {}

  static Value list(std::vector<Value> items, bool is_tuple = false);
  static Value dict();
  static Value function(std::string name, std::function<Value(CallArgs&)> call);
  //! Converts parsed JSON (objects keep their key order).
  static Value from_json(const nlohmann::ordered_json& json);

  bool is_undefined() const { return v_.index() == 0; }
  bool is_none() const { return v_.index() == 1; }
  bool is_bool() const { return v_.index() == 2; }
  bool is_int() const { return v_.index() == 3; }
  bool is_float() const { return v_.index() == 4; }
  bool is_number() const { return is_int() || is_float(); }
  bool is_string() const { return v_.index() == 5; }
  bool is_list() const { return v_.index() == 6; }
  bool is_dict() const { return v_.index() == 7; }
  bool is_callable() const { return v_.index() == 8; }

  bool as_bool() const { return std::get<bool>(v_); }
  std::int64_t as_int() const { return std::get<std::int64_t>(v_); }
  //! The number as a double (bools count as 0/1, as in Python).
  double as_double() const;
  const std::string& as_string() const { return std::get<std::string>(v_); }
  List& as_list() const { return *std::get<std::shared_ptr<List>>(v_); }
  Dict& as_dict() const { return *std::get<std::shared_ptr<Dict>>(v_); }
  Callable& as_callable() const {
    return *std::get<std::shared_ptr<Callable>>(v_);
  }
  const Undefined& as_undefined() const { return std::get<Undefined>(v_); }

  //! Python's bool(x); undefined is falsy.
  bool truthy() const;
  //! Python's str(x); undefined prints as "".
  std::string str() const;
  //! Python's repr(x), as used inside printed lists and dicts.
  std::string repr() const;
  //! Python's type name ("str", "int", "dict", ...), for messages.
  std::string type_name() const;
  //! Python's ==: numbers compare by value, containers element-wise.
  bool equals(const Value& other) const;
  //! Nesting height: 0 for scalars, 1 + the deepest item for containers.
  int depth() const;
  //! True for a namespace or a container holding one.
  bool holds_namespace() const;

private:
  Storage v_;
};

//! Python's repr() of a float ("1.0", "0.1", "1e+16").
std::string python_float_repr(double value);

struct JsonOptions {
  int indent = -1;            // < 0: one line
  std::string item_separator; // empty: Python's default for the indent
  std::string key_separator;  // empty: ": "
  bool sort_keys = false;
  bool ensure_ascii = false;
};

//! Python's json.dumps(value, ...) with the given options; throws
//! std::invalid_argument for values JSON cannot hold (undefined, callables).
std::string to_python_json(const Value& value, const JsonOptions& options);

} // namespace mlxt::tokenizer::jinja
