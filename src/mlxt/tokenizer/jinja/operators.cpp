#include "mlxt/tokenizer/jinja/operators.h"

#include <cmath>
#include <optional>

#include "mlxt/tokenizer/jinja/methods.h"
#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer::jinja {

namespace {

bool is_intlike(const Value& v) {
  return v.is_int() || v.is_bool();
}

std::int64_t to_int(const Value& v) {
  return v.is_int() ? v.as_int() : static_cast<std::int64_t>(v.as_bool());
}

bool is_numeric(const Value& v) {
  return v.is_number() || v.is_bool();
}

[[noreturn]] void
type_error(const std::string& op, const Value& a, const Value& b) {
  fault(FaultKind::runtime,
        "unsupported operand type(s) for " + op + ": '" + a.type_name() +
            "' and '" + b.type_name() + "'");
}

[[noreturn]] void overflow(const std::string& op) {
  fault(FaultKind::unsupported,
        "integer overflow in '" + op +
            "' (only 64-bit integers are supported)");
}

Value repeat(const Value& seq, std::int64_t times, Budget& budget) {
  if (times < 0) {
    times = 0;
  }
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    budget.check_size(s.size() * static_cast<std::size_t>(times));
    std::string out;
    for (std::int64_t i = 0; i < times; ++i) {
      out += s;
    }
    return Value(std::move(out));
  }
  const List& l = seq.as_list();
  budget.check_items(l.items.size() * static_cast<std::size_t>(times));
  std::vector<Value> out;
  for (std::int64_t i = 0; i < times; ++i) {
    out.insert(out.end(), l.items.begin(), l.items.end());
  }
  return Value::list(std::move(out), l.is_tuple);
}

double python_fmod(double a, double b) {
  double r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) {
    r += b;
  }
  return r;
}

} // namespace

void require_defined(const Value& v) {
  if (v.is_undefined()) {
    const std::string& name = v.as_undefined().name;
    fault(FaultKind::runtime,
          name.empty() ? "a value is undefined"
                       : "'" + name + "' is undefined");
  }
}

Value binary_op(const std::string& op,
                const Value& a,
                const Value& b,
                Budget& budget) {
  require_defined(a);
  require_defined(b);
  if (is_numeric(a) && is_numeric(b)) {
    bool ints = is_intlike(a) && is_intlike(b);
    std::int64_t x = ints ? to_int(a) : 0;
    std::int64_t y = ints ? to_int(b) : 0;
    double p = a.as_double();
    double q = b.as_double();
    std::int64_t r = 0;
    if (op == "+") {
      if (!ints) {
        return Value(p + q);
      }
      if (__builtin_add_overflow(x, y, &r)) {
        overflow(op);
      }
      return Value(r);
    }
    if (op == "-") {
      if (!ints) {
        return Value(p - q);
      }
      if (__builtin_sub_overflow(x, y, &r)) {
        overflow(op);
      }
      return Value(r);
    }
    if (op == "*") {
      if (!ints) {
        return Value(p * q);
      }
      if (__builtin_mul_overflow(x, y, &r)) {
        overflow(op);
      }
      return Value(r);
    }
    if (q == 0 && (op == "/" || op == "//" || op == "%")) {
      fault(FaultKind::runtime, "division by zero");
    }
    if (op == "/") {
      return Value(p / q);
    }
    if (op == "//") {
      if (!ints) {
        return Value(std::floor(p / q));
      }
      if (x == INT64_MIN && y == -1) {
        overflow(op);
      }
      std::int64_t d = x / y;
      if ((x % y != 0) && ((x < 0) != (y < 0))) {
        --d;
      }
      return Value(d);
    }
    if (op == "%") {
      if (!ints) {
        return Value(python_fmod(p, q));
      }
      if (y == -1) {
        return Value(std::int64_t{0});
      }
      std::int64_t m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        m += y;
      }
      return Value(m);
    }
    if (op == "**") {
      if (ints && y >= 0) {
        std::int64_t result = 1;
        for (std::int64_t i = 0; i < y; ++i) {
          if (__builtin_mul_overflow(result, x, &result)) {
            overflow(op);
          }
          if (result == 0 || result == 1) {
            break;
          }
          budget.step();
        }
        if (result == 1 && x == -1 && y % 2 == 1) {
          result = -1;
        }
        return Value(result);
      }
      return Value(std::pow(p, q));
    }
  }
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      budget.check_size(a.as_string().size() + b.as_string().size());
      return Value(a.as_string() + b.as_string());
    }
    if (a.is_list() && b.is_list() &&
        a.as_list().is_tuple == b.as_list().is_tuple) {
      std::vector<Value> items = a.as_list().items;
      budget.check_items(items.size() + b.as_list().items.size());
      items.insert(
          items.end(), b.as_list().items.begin(), b.as_list().items.end());
      return Value::list(std::move(items), a.as_list().is_tuple);
    }
  }
  if (op == "*") {
    if ((a.is_string() || a.is_list()) && is_intlike(b)) {
      return repeat(a, to_int(b), budget);
    }
    if ((b.is_string() || b.is_list()) && is_intlike(a)) {
      return repeat(b, to_int(a), budget);
    }
  }
  if (op == "%" && a.is_string()) {
    return percent_format(a.as_string(), b);
  }
  type_error(op, a, b);
}

bool less_than(const Value& a, const Value& b) {
  if (is_numeric(a) && is_numeric(b)) {
    if (is_intlike(a) && is_intlike(b)) {
      return to_int(a) < to_int(b);
    }
    return a.as_double() < b.as_double();
  }
  if (a.is_string() && b.is_string()) {
    return a.as_string() < b.as_string();
  }
  if (a.is_list() && b.is_list()) {
    const auto& x = a.as_list().items;
    const auto& y = b.as_list().items;
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!x[i].equals(y[i])) {
        return less_than(x[i], y[i]);
      }
    }
    return x.size() < y.size();
  }
  require_defined(a);
  require_defined(b);
  fault(FaultKind::runtime,
        "'<' not supported between instances of '" + a.type_name() + "' and '" +
            b.type_name() + "'");
}

bool contains(const Value& container, const Value& item) {
  if (container.is_undefined()) {
    return false; // jinja2's Undefined iterates as empty
  }
  if (container.is_string()) {
    if (!item.is_string()) {
      require_defined(item);
      fault(FaultKind::runtime,
            "'in <string>' requires string as left "
            "operand, not " +
                item.type_name());
    }
    return container.as_string().find(item.as_string()) != std::string::npos;
  }
  if (container.is_list()) {
    for (const Value& v : container.as_list().items) {
      if (v.equals(item)) {
        return true;
      }
    }
    return false;
  }
  if (container.is_dict()) {
    return item.is_string() && container.as_dict().find(item.as_string());
  }
  require_defined(container);
  fault(FaultKind::runtime,
        "argument of type '" + container.type_name() + "' is not iterable");
}

bool compare_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") {
    return a.equals(b);
  }
  if (op == "!=") {
    return !a.equals(b);
  }
  if (op == "<") {
    return less_than(a, b);
  }
  if (op == ">") {
    return less_than(b, a);
  }
  if (op == "<=") {
    return a.equals(b) || less_than(a, b);
  }
  if (op == ">=") {
    return a.equals(b) || less_than(b, a);
  }
  if (op == "in") {
    return contains(b, a);
  }
  return !contains(b, a); // "not in"
}

Value get_attribute(const Value& object, const std::string& name) {
  require_defined(object);
  if (name.empty() || name[0] == '_') {
    return Value(Undefined{name}); // the sandbox hides private attributes
  }
  if (object.is_dict() && object.as_dict().is_namespace) {
    const Value* found = object.as_dict().find(name);
    return found ? *found : Value(Undefined{name});
  }
  Value method = bound_method(object, name);
  if (!method.is_undefined()) {
    return method;
  }
  if (object.is_dict()) {
    const Value* found = object.as_dict().find(name);
    return found ? *found : Value(Undefined{name});
  }
  return Value(Undefined{name});
}

Value get_item(const Value& object, const Value& key) {
  require_defined(object);
  if (object.is_dict()) {
    if (key.is_string()) {
      if (const Value* found = object.as_dict().find(key.as_string())) {
        return *found;
      }
      return get_attribute(object, key.as_string());
    }
    return Value(Undefined{key.str()});
  }
  if ((object.is_list() || object.is_string()) && is_intlike(key)) {
    std::int64_t i = to_int(key);
    if (object.is_list()) {
      const auto& items = object.as_list().items;
      std::int64_t n = static_cast<std::int64_t>(items.size());
      if (i < 0) {
        i += n;
      }
      return i >= 0 && i < n ? items[static_cast<std::size_t>(i)]
                             : Value(Undefined{key.str()});
    }
    std::vector<std::string> chars = characters(object.as_string());
    std::int64_t n = static_cast<std::int64_t>(chars.size());
    if (i < 0) {
      i += n;
    }
    return i >= 0 && i < n ? Value(chars[static_cast<std::size_t>(i)])
                           : Value(Undefined{key.str()});
  }
  if (key.is_string()) {
    return get_attribute(object, key.as_string());
  }
  return Value(Undefined{key.str()});
}

Value get_slice(const Value& object,
                const Value& start,
                const Value& stop,
                const Value& step) {
  require_defined(object);
  auto index = [](const Value& v,
                  const char* what) -> std::optional<std::int64_t> {
    if (v.is_undefined() || v.is_none()) {
      return std::nullopt;
    }
    if (!is_intlike(v)) {
      fault(FaultKind::runtime,
            std::string("slice ") + what + " must be an integer or None");
    }
    return to_int(v);
  };
  std::int64_t st = index(step, "step").value_or(1);
  if (st == 0) {
    fault(FaultKind::runtime, "slice step cannot be zero");
  }
  std::vector<std::string> chars;
  bool is_string = object.is_string();
  if (is_string) {
    chars = characters(object.as_string());
  } else if (!object.is_list()) {
    fault(FaultKind::runtime,
          "'" + object.type_name() + "' object is not subscriptable");
  }
  std::int64_t n = static_cast<std::int64_t>(
      is_string ? chars.size() : object.as_list().items.size());
  // Python's slice.indices().
  auto clamp = [&](std::optional<std::int64_t> v, std::int64_t dflt) {
    if (!v) {
      return dflt;
    }
    std::int64_t x = *v;
    if (x < 0) {
      x += n;
      if (x < 0) {
        x = st < 0 ? -1 : 0;
      }
    } else if (x >= n) {
      x = st < 0 ? n - 1 : n;
    }
    return x;
  };
  std::int64_t lo = clamp(index(start, "start"), st < 0 ? n - 1 : 0);
  std::int64_t hi = clamp(index(stop, "stop"), st < 0 ? -1 : n);
  std::string text;
  std::vector<Value> items;
  for (std::int64_t i = lo; st > 0 ? i < hi : i > hi; i += st) {
    if (is_string) {
      text += chars[static_cast<std::size_t>(i)];
    } else {
      items.push_back(object.as_list().items[static_cast<std::size_t>(i)]);
    }
  }
  if (is_string) {
    return Value(std::move(text));
  }
  return Value::list(std::move(items), object.as_list().is_tuple);
}

std::vector<Value> iterate(const Value& v) {
  if (v.is_undefined()) {
    return {};
  }
  if (v.is_list()) {
    return v.as_list().items;
  }
  if (v.is_dict() && !v.as_dict().is_namespace) {
    std::vector<Value> keys;
    for (const auto& item : v.as_dict().items) {
      keys.emplace_back(item.first);
    }
    return keys;
  }
  if (v.is_string()) {
    std::vector<Value> out;
    for (std::string& c : characters(v.as_string())) {
      out.emplace_back(std::move(c));
    }
    return out;
  }
  fault(FaultKind::runtime, "'" + v.type_name() + "' object is not iterable");
}

std::vector<std::string> characters(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = detail::utf8_sequence_length(s, i);
    if (len == 0) {
      len = 1;
    }
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

} // namespace mlxt::tokenizer::jinja
