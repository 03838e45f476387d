#include "mlxt/tokenizer/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "mlxt/tokenizer/jinja/fault.h"
#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer::jinja {

namespace {

// Printing, comparing and freeing values recurse once per level.
constexpr int kMaxValueDepth = 256;

void check_depth(int depth) {
  if (depth > kMaxValueDepth) {
    fault(FaultKind::budget,
          "a value nested deeper than " + std::to_string(kMaxValueDepth) +
              " levels");
  }
}

} // namespace

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : items) {
    if (k == key) {
      return &v;
    }
  }
  return nullptr;
}

void Dict::set(const std::string& key, Value value) {
  depth = std::max(depth, value.depth() + 1);
  check_depth(depth);
  holds_namespace = holds_namespace || value.holds_namespace();
  for (auto& [k, v] : items) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  items.emplace_back(key, std::move(value));
}

Value Value::list(std::vector<Value> items, bool is_tuple) {
  auto l = std::make_shared<List>();
  l->items = std::move(items);
  l->is_tuple = is_tuple;
  for (const Value& item : l->items) {
    l->depth = std::max(l->depth, item.depth() + 1);
    l->holds_namespace = l->holds_namespace || item.holds_namespace();
  }
  check_depth(l->depth);
  return Value(std::move(l));
}

Value Value::dict() {
  return Value(std::make_shared<Dict>());
}

Value Value::function(std::string name, std::function<Value(CallArgs&)> call) {
  return Value(
      std::make_shared<Callable>(Callable{std::move(name), std::move(call)}));
}

Value Value::from_json(const nlohmann::ordered_json& json) {
  switch (json.type()) {
  case nlohmann::ordered_json::value_t::null:
    return Value(None{});
  case nlohmann::ordered_json::value_t::boolean:
    return Value(json.get<bool>());
  case nlohmann::ordered_json::value_t::number_integer:
    return Value(json.get<std::int64_t>());
  case nlohmann::ordered_json::value_t::number_unsigned:
    return Value(static_cast<std::int64_t>(json.get<std::uint64_t>()));
  case nlohmann::ordered_json::value_t::number_float:
    return Value(json.get<double>());
  case nlohmann::ordered_json::value_t::string:
    return Value(json.get<std::string>());
  case nlohmann::ordered_json::value_t::array: {
    std::vector<Value> items;
    for (const auto& item : json) {
      items.push_back(from_json(item));
    }
    return list(std::move(items));
  }
  case nlohmann::ordered_json::value_t::object: {
    Value out = dict();
    Dict& d = out.as_dict();
    for (const auto& [key, item] : json.items()) {
      Value v = from_json(item);
      d.depth = std::max(d.depth, v.depth() + 1);
      check_depth(d.depth);
      d.items.emplace_back(key, std::move(v));
    }
    return out;
  }
  default:
    return Value(None{});
  }
}

int Value::depth() const {
  if (is_list()) {
    return as_list().depth;
  }
  if (is_dict()) {
    return as_dict().depth;
  }
  return 0;
}

bool Value::holds_namespace() const {
  if (is_list()) {
    return as_list().holds_namespace;
  }
  if (is_dict()) {
    return as_dict().is_namespace || as_dict().holds_namespace;
  }
  return false;
}

double Value::as_double() const {
  if (is_int()) {
    return static_cast<double>(as_int());
  }
  if (is_bool()) {
    return as_bool() ? 1.0 : 0.0;
  }
  return std::get<double>(v_);
}

bool Value::truthy() const {
  switch (v_.index()) {
  case 0:
  case 1:
    return false;
  case 2:
    return as_bool();
  case 3:
    return as_int() != 0;
  case 4:
    return std::get<double>(v_) != 0.0;
  case 5:
    return !as_string().empty();
  case 6:
    return !as_list().items.empty();
  case 7:
    return as_dict().is_namespace || !as_dict().items.empty();
  default:
    return true;
  }
}

std::string python_float_repr(double value) {
  if (std::isnan(value)) {
    return "nan";
  }
  if (std::isinf(value)) {
    return value > 0 ? "inf" : "-inf";
  }
  // Shortest round-trip digits, then Python's layout: fixed notation for
  // exponents in [-4, 16), scientific ("1e+16", "1.5e-05") otherwise.
  char buf[64];
  auto res = std::to_chars(
      buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::size_t e = sci.find('e');
  std::string mantissa = sci.substr(0, e);
  int exponent = std::stoi(sci.substr(e + 1));
  bool negative = mantissa[0] == '-';
  if (negative) {
    mantissa.erase(0, 1);
  }
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') {
      digits += c;
    }
  }
  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out += "0." + std::string(-exponent - 1, '0') + digits;
    } else if (static_cast<int>(digits.size()) <= exponent + 1) {
      out += digits + std::string(exponent + 1 - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, exponent + 1) + "." + digits.substr(exponent + 1);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) {
    out += "." + digits.substr(1);
  }
  char exp[16];
  std::snprintf(
      exp, sizeof exp, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out + exp;
}

namespace {

std::string repr_string(const std::string& s) {
  char quote = '\'';
  if (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) {
    quote = '"';
  }
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == '\\' || c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + quote;
}

} // namespace

std::string Value::str() const {
  switch (v_.index()) {
  case 0:
    return "";
  case 5:
    return as_string();
  default:
    return repr();
  }
}

std::string Value::repr() const {
  switch (v_.index()) {
  case 0:
    return "Undefined";
  case 1:
    return "None";
  case 2:
    return as_bool() ? "True" : "False";
  case 3:
    return std::to_string(as_int());
  case 4:
    return python_float_repr(std::get<double>(v_));
  case 5:
    return repr_string(as_string());
  case 6: {
    const List& l = as_list();
    std::string out = l.is_tuple ? "(" : "[";
    for (std::size_t i = 0; i < l.items.size(); ++i) {
      out += (i ? ", " : "") + l.items[i].repr();
    }
    if (l.is_tuple && l.items.size() == 1) {
      out += ",";
    }
    return out + (l.is_tuple ? ")" : "]");
  }
  case 7: {
    const Dict& d = as_dict();
    std::string out = d.is_namespace ? "<Namespace {" : "{";
    for (std::size_t i = 0; i < d.items.size(); ++i) {
      out += (i ? ", " : "") + repr_string(d.items[i].first) + ": " +
             d.items[i].second.repr();
    }
    return out + (d.is_namespace ? "}>" : "}");
  }
  default:
    return "<function " + as_callable().name + ">";
  }
}

std::string Value::type_name() const {
  static const char* names[] = {"Undefined",
                                "NoneType",
                                "bool",
                                "int",
                                "float",
                                "str",
                                "list",
                                "dict",
                                "function"};
  if (is_list() && as_list().is_tuple) {
    return "tuple";
  }
  if (is_dict() && as_dict().is_namespace) {
    return "Namespace";
  }
  return names[v_.index()];
}

bool Value::equals(const Value& other) const {
  bool numeric =
      (is_number() || is_bool()) && (other.is_number() || other.is_bool());
  if (numeric) {
    if ((is_int() || is_bool()) && (other.is_int() || other.is_bool())) {
      std::int64_t a = is_int() ? as_int() : as_bool();
      std::int64_t b = other.is_int() ? other.as_int() : other.as_bool();
      return a == b;
    }
    return as_double() == other.as_double();
  }
  if (v_.index() != other.v_.index()) {
    return false;
  }
  switch (v_.index()) {
  case 0:
  case 1:
    return true;
  case 5:
    return as_string() == other.as_string();
  case 6: {
    const List& a = as_list();
    const List& b = other.as_list();
    if (a.is_tuple != b.is_tuple || a.items.size() != b.items.size()) {
      return false;
    }
    for (std::size_t i = 0; i < a.items.size(); ++i) {
      if (!a.items[i].equals(b.items[i])) {
        return false;
      }
    }
    return true;
  }
  case 7: {
    const Dict& a = as_dict();
    const Dict& b = other.as_dict();
    if (a.is_namespace || b.is_namespace) {
      return &a == &b;
    }
    if (a.items.size() != b.items.size()) {
      return false;
    }
    for (const auto& [key, value] : a.items) {
      const Value* found = b.find(key);
      if (found == nullptr || !found->equals(value)) {
        return false;
      }
    }
    return true;
  }
  default:
    return &as_callable() == &other.as_callable();
  }
}

namespace {

void json_string(const std::string& s, bool ensure_ascii, std::string& out) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    char buf[16];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\b') {
      out += "\\b";
    } else if (c == '\f') {
      out += "\\f";
    } else if (c < 0x20 || (ensure_ascii && c == 0x7f)) {
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else if (ensure_ascii && c >= 0x80) {
      std::size_t len = detail::utf8_sequence_length(s, i);
      if (len == 0) {
        out += static_cast<char>(c);
        ++i;
        continue;
      }
      char32_t cp = detail::utf8_decode(s, i, len);
      if (cp >= 0x10000) {
        cp -= 0x10000;
        std::snprintf(buf,
                      sizeof buf,
                      "\\u%04x\\u%04x",
                      0xD800 + static_cast<unsigned>(cp >> 10),
                      0xDC00 + static_cast<unsigned>(cp & 0x3FF));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      }
      out += buf;
      i += len;
      continue;
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  out += '"';
}

void dump(const Value& value,
          const JsonOptions& options,
          int level,
          std::string& out) {
  const std::string item_sep = !options.item_separator.empty()
                                   ? options.item_separator
                                   : (options.indent < 0 ? ", " : ",");
  const std::string key_sep =
      !options.key_separator.empty() ? options.key_separator : ": ";
  auto newline = [&](int depth) {
    if (options.indent >= 0) {
      out += '\n';
      out.append(static_cast<std::size_t>(options.indent * depth), ' ');
    }
  };
  if (value.is_none()) {
    out += "null";
  } else if (value.is_bool()) {
    out += value.as_bool() ? "true" : "false";
  } else if (value.is_int()) {
    out += std::to_string(value.as_int());
  } else if (value.is_float()) {
    double d = value.as_double();
    out += std::isnan(d)   ? "NaN"
           : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity")
                           : python_float_repr(d);
  } else if (value.is_string()) {
    json_string(value.as_string(), options.ensure_ascii, out);
  } else if (value.is_list()) {
    const auto& items = value.as_list().items;
    if (items.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) {
        out += item_sep;
      }
      newline(level + 1);
      dump(items[i], options, level + 1, out);
    }
    newline(level);
    out += ']';
  } else if (value.is_dict() && !value.as_dict().is_namespace) {
    std::vector<const std::pair<std::string, Value>*> items;
    for (const auto& item : value.as_dict().items) {
      items.push_back(&item);
    }
    if (items.empty()) {
      out += "{}";
      return;
    }
    if (options.sort_keys) {
      std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) {
        return a->first < b->first;
      });
    }
    out += '{';
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) {
        out += item_sep;
      }
      newline(level + 1);
      json_string(items[i]->first, options.ensure_ascii, out);
      out += key_sep;
      dump(items[i]->second, options, level + 1, out);
    }
    newline(level);
    out += '}';
  } else {
    throw std::invalid_argument("Object of type " + value.type_name() +
                                " is not JSON serializable");
  }
}

} // namespace

std::string to_python_json(const Value& value, const JsonOptions& options) {
  std::string out;
  dump(value, options, 0, out);
  return out;
}

} // namespace mlxt::tokenizer::jinja
