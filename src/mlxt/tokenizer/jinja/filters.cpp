#include "mlxt/tokenizer/jinja/filters.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "mlxt/tokenizer/jinja/arguments.h"
#include "mlxt/tokenizer/jinja/methods.h"
#include "mlxt/tokenizer/jinja/operators.h"
#include "mlxt/tokenizer/jinja/tests.h"

namespace mlxt::tokenizer::jinja {

namespace {

const char* const kFilters[] = {
    "abs",     "attr",       "capitalize", "center",  "count",    "d",
    "default", "dictsort",   "e",          "escape",  "first",    "float",
    "format",  "indent",     "int",        "items",   "join",     "last",
    "length",  "list",       "lower",      "map",     "max",      "min",
    "reject",  "rejectattr", "replace",    "reverse", "round",    "safe",
    "select",  "selectattr", "sort",       "string",  "sum",      "title",
    "tojson",  "trim",       "unique",     "upper",   "wordcount"};

const char* const kTests[] = {
    "defined",  "undefined", "none",   "boolean", "true",        "false",
    "integer",  "float",     "number", "string",  "mapping",     "iterable",
    "sequence", "callable",  "even",   "odd",     "divisibleby", "eq",
    "equalto",  "==",        "ne",     "!=",      "lt",          "lessthan",
    "<",        "le",        "<=",     "gt",      "greaterthan", ">",
    "ge",       ">=",        "in",     "sameas",  "lower",       "upper"};

template <std::size_t N>
bool listed(const char* const (&names)[N], const std::string& name) {
  return std::find_if(std::begin(names), std::end(names), [&](const char* n) {
           return name == n;
         }) != std::end(names);
}

const std::string& need_string(const Value& v, const std::string& filter) {
  if (!v.is_string()) {
    require_defined(v);
    fault(FaultKind::runtime,
          "the '" + filter + "' filter needs a string, not " + v.type_name());
  }
  return v.as_string();
}

// jinja2's make_attrgetter: "a.b.0" looks up a, then b, then item 0.
Value lookup_path(const Value& item, const Value& path) {
  if (path.is_int()) {
    return get_item(item, path);
  }
  std::string p = path.str();
  Value out = item;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = p.find('.', start);
    std::string part = p.substr(start, dot - start);
    bool digits =
        !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        });
    out = digits ? get_item(out,
                            Value(static_cast<std::int64_t>(
                                std::strtoll(part.c_str(), nullptr, 10))))
                 : get_item(out, Value(part));
    if (dot == std::string::npos) {
      return out;
    }
    start = dot + 1;
  }
}

// Sort key comparison with jinja2's case-insensitive default for strings.
bool sort_less(const Value& a, const Value& b, bool case_sensitive) {
  if (!case_sensitive && a.is_string() && b.is_string()) {
    return python_lower(a.as_string()) < python_lower(b.as_string());
  }
  return less_than(a, b);
}

Value key_of(const Value& item, const Value& attribute, bool case_sensitive) {
  Value key = attribute.is_none() ? item : lookup_path(item, attribute);
  if (!case_sensitive && key.is_string()) {
    return Value(python_lower(key.as_string()));
  }
  return key;
}

Value do_sort(const Value& value, CallArgs& args) {
  auto v = bind_args("sort",
                     args,
                     {{"reverse", Value(false)},
                      {"case_sensitive", Value(false)},
                      {"attribute", Value(None{})}});
  std::vector<Value> items = iterate(value);
  bool reverse = v[0].truthy();
  bool cs = v[1].truthy();
  std::stable_sort(
      items.begin(), items.end(), [&](const Value& a, const Value& b) {
        Value ka = key_of(a, v[2], cs);
        Value kb = key_of(b, v[2], cs);
        return reverse ? less_than(kb, ka) : less_than(ka, kb);
      });
  return Value::list(std::move(items));
}

Value do_dictsort(const Value& value, CallArgs& args) {
  auto v = bind_args("dictsort",
                     args,
                     {{"case_sensitive", Value(false)},
                      {"by", Value("key")},
                      {"reverse", Value(false)}});
  if (!value.is_dict()) {
    require_defined(value);
    fault(FaultKind::runtime,
          "dictsort needs a dict, not " + value.type_name());
  }
  int pos = v[1].str() == "key" ? 0 : v[1].str() == "value" ? 1 : -1;
  if (pos < 0) {
    fault(FaultKind::runtime, "You can only sort by either 'key' or 'value'");
  }
  std::vector<Value> items;
  for (const auto& [key, item] : value.as_dict().items) {
    items.push_back(Value::list({Value(key), item}, true));
  }
  bool cs = v[0].truthy();
  bool reverse = v[2].truthy();
  std::stable_sort(
      items.begin(), items.end(), [&](const Value& a, const Value& b) {
        const Value& ka = a.as_list().items[static_cast<std::size_t>(pos)];
        const Value& kb = b.as_list().items[static_cast<std::size_t>(pos)];
        return reverse ? sort_less(kb, ka, cs) : sort_less(ka, kb, cs);
      });
  return Value::list(std::move(items));
}

Value do_unique(const Value& value, CallArgs& args) {
  auto v = bind_args(
      "unique",
      args,
      {{"case_sensitive", Value(false)}, {"attribute", Value(None{})}});
  std::vector<Value> seen;
  std::vector<Value> out;
  for (const Value& item : iterate(value)) {
    Value key = key_of(item, v[1], v[0].truthy());
    if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) {
          return s.equals(key);
        })) {
      seen.push_back(key);
      out.push_back(item);
    }
  }
  return Value::list(std::move(out));
}

Value do_min_max(const std::string& name, const Value& value, CallArgs& args) {
  auto v = bind_args(
      name,
      args,
      {{"case_sensitive", Value(false)}, {"attribute", Value(None{})}});
  std::vector<Value> items = iterate(value);
  if (items.empty()) {
    return Value(Undefined{"No aggregated item, sequence was empty."});
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < items.size(); ++i) {
    Value a = key_of(items[i], v[1], v[0].truthy());
    Value b = key_of(items[best], v[1], v[0].truthy());
    if (name == "min" ? less_than(a, b) : less_than(b, a)) {
      best = i;
    }
  }
  return items[best];
}

// select / reject / selectattr / rejectattr.
Value do_select(const std::string& name, const Value& value, CallArgs& args) {
  bool by_attribute = name.size() > 6; // selectattr, rejectattr
  bool keep_if = name[0] == 's';
  std::size_t first_test_arg = by_attribute ? 1 : 0;
  if (by_attribute && args.positional.empty()) {
    fault(FaultKind::runtime, name + "() needs an attribute name");
  }
  Value attribute = by_attribute ? args.positional[0] : Value(None{});
  std::string test;
  if (args.positional.size() > first_test_arg) {
    test = args.positional[first_test_arg].str();
  }
  CallArgs test_args;
  for (std::size_t i = first_test_arg + 1; i < args.positional.size(); ++i) {
    test_args.positional.push_back(args.positional[i]);
  }
  test_args.keyword = args.keyword;
  std::vector<Value> out;
  for (const Value& item : iterate(value)) {
    Value subject = by_attribute ? lookup_path(item, attribute) : item;
    bool pass;
    if (test.empty()) {
      pass = subject.truthy();
    } else {
      CallArgs copy = test_args;
      pass = apply_test(test, subject, copy);
    }
    if (pass == keep_if) {
      out.push_back(item);
    }
  }
  return Value::list(std::move(out));
}

Value do_map(const Value& value, CallArgs& args, Budget& budget) {
  std::vector<Value> out;
  const Value* attribute = nullptr;
  Value fallback;
  for (const auto& [key, v] : args.keyword) {
    if (key == "attribute") {
      attribute = &v;
    } else if (key == "default") {
      fallback = v;
    }
  }
  if (attribute != nullptr) {
    for (const Value& item : iterate(value)) {
      Value got = lookup_path(item, *attribute);
      out.push_back(got.is_undefined() && !fallback.is_undefined() ? fallback
                                                                   : got);
    }
    return Value::list(std::move(out));
  }
  if (args.positional.empty()) {
    fault(FaultKind::runtime, "map() needs a filter name or attribute=");
  }
  std::string filter = args.positional[0].str();
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.keyword = args.keyword;
  for (const Value& item : iterate(value)) {
    CallArgs copy = rest;
    out.push_back(apply_filter(filter, item, copy, budget));
  }
  return Value::list(std::move(out));
}

Value do_tojson(const Value& value, CallArgs& args) {
  auto v = bind_args("tojson",
                     args,
                     {{"ensure_ascii", Value(false)},
                      {"indent", Value(None{})},
                      {"separators", Value(None{})},
                      {"sort_keys", Value(false)}});
  JsonOptions options;
  options.ensure_ascii = v[0].truthy();
  if (v[1].is_int()) {
    options.indent = static_cast<int>(std::max<std::int64_t>(0, v[1].as_int()));
  } else if (!v[1].is_none()) {
    fault(FaultKind::unsupported, "tojson indent must be an integer or none");
  }
  if (v[2].is_list() && v[2].as_list().items.size() == 2) {
    options.item_separator = v[2].as_list().items[0].str();
    options.key_separator = v[2].as_list().items[1].str();
    if (options.item_separator.empty() || options.key_separator.empty()) {
      fault(FaultKind::unsupported, "tojson with an empty separator");
    }
  } else if (!v[2].is_none()) {
    fault(FaultKind::runtime, "tojson separators must be a pair of strings");
  }
  options.sort_keys = v[3].truthy();
  try {
    return Value(to_python_json(value, options));
  } catch (const std::invalid_argument& e) {
    fault(FaultKind::runtime, e.what());
  }
}

Value do_indent(const Value& value, CallArgs& args, Budget& budget) {
  auto v = bind_args(
      "indent",
      args,
      {{"width", Value(4)}, {"first", Value(false)}, {"blank", Value(false)}});
  std::string indention;
  if (v[0].is_string()) {
    indention = v[0].as_string();
  } else if (v[0].is_int()) {
    indention.assign(static_cast<std::size_t>(std::max<std::int64_t>(
                         0, std::min<std::int64_t>(v[0].as_int(), 1 << 20))),
                     ' ');
  } else {
    fault(FaultKind::runtime, "indent width must be an integer or a string");
  }
  std::vector<std::string> lines = python_splitlines(value.str() + "\n");
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += '\n';
      if (v[2].truthy() || !lines[i].empty()) {
        out += indention;
      }
    }
    out += lines[i];
    budget.check_size(out.size());
  }
  if (v[1].truthy()) {
    out = indention + out;
  }
  return Value(out);
}

Value do_round(const Value& value, CallArgs& args) {
  auto v = bind_args(
      "round", args, {{"precision", Value(0)}, {"method", Value("common")}});
  std::string method = v[1].str();
  if (method != "common" && method != "ceil" && method != "floor") {
    fault(FaultKind::runtime, "method must be common, ceil or floor");
  }
  if (!value.is_number() && !value.is_bool()) {
    require_defined(value);
    fault(FaultKind::runtime, "round needs a number, not " + value.type_name());
  }
  double scale =
      std::pow(10.0, static_cast<double>(v[0].is_int() ? v[0].as_int() : 0));
  double x = value.as_double() * scale;
  double r = method == "ceil" ? std::ceil(x)
             : method == "floor"
                 ? std::floor(x)
                 : std::nearbyint(x); // Python rounds half to even
  return Value(r / scale);
}

Value to_int(const Value& value, const Value& fallback) {
  if (value.is_int()) {
    return value;
  }
  if (value.is_bool()) {
    return Value(static_cast<std::int64_t>(value.as_bool()));
  }
  if (value.is_float()) {
    return Value(static_cast<std::int64_t>(std::trunc(value.as_double())));
  }
  if (value.is_string()) {
    std::string s = python_strip(value.as_string(), Value(None{}), true, true);
    char* end = nullptr;
    long long i = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && *end == '\0') {
      return Value(static_cast<std::int64_t>(i));
    }
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && *end == '\0' && std::isfinite(d)) {
      return Value(static_cast<std::int64_t>(std::trunc(d)));
    }
  }
  return fallback;
}

Value to_float(const Value& value, const Value& fallback) {
  if (value.is_number() || value.is_bool()) {
    return Value(value.as_double());
  }
  if (value.is_string()) {
    std::string s = python_strip(value.as_string(), Value(None{}), true, true);
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && *end == '\0') {
      return Value(d);
    }
  }
  return fallback;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&#34;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

// jinja2's title: capitalize each word after -, whitespace or an opening
// bracket.
std::string jinja_title(const std::string& s) {
  std::string out;
  bool start = true;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    bool boundary = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' ||
                    c == ' ' || (c >= '\t' && c <= '\r') ||
                    (u >= 0x1c && u <= 0x1f);
    if (boundary) {
      out += c;
      start = true;
    } else {
      out += static_cast<char>(start ? std::toupper(u) : std::tolower(u));
      start = false;
    }
  }
  return out;
}

std::int64_t word_count(const std::string& s) {
  std::int64_t n = 0;
  bool in_word = false;
  for (unsigned char c : s) {
    bool word = std::isalnum(c) != 0 || c == '_' || c >= 0x80;
    if (word && !in_word) {
      ++n;
    }
    in_word = word;
  }
  return n;
}

std::int64_t length_of(const Value& value) {
  if (value.is_string()) {
    return static_cast<std::int64_t>(characters(value.as_string()).size());
  }
  if (value.is_list()) {
    return static_cast<std::int64_t>(value.as_list().items.size());
  }
  if (value.is_dict()) {
    return static_cast<std::int64_t>(value.as_dict().items.size());
  }
  if (value.is_undefined()) {
    return 0;
  }
  fault(FaultKind::runtime,
        "object of type '" + value.type_name() + "' has no len()");
}

} // namespace

bool is_known_filter(const std::string& name) {
  return listed(kFilters, name);
}

bool is_known_test(const std::string& name) {
  return listed(kTests, name);
}

Value apply_filter(const std::string& name,
                   const Value& value,
                   CallArgs& args,
                   Budget& budget) {
  auto no_args = [&] { bind_args(name, args, {}); };
  if (name == "default" || name == "d") {
    auto v = bind_args(
        name, args, {{"default_value", Value("")}, {"boolean", Value(false)}});
    bool use_default =
        value.is_undefined() || (v[1].truthy() && !value.truthy());
    return use_default ? v[0] : value;
  }
  if (name == "length" || name == "count") {
    no_args();
    return Value(length_of(value));
  }
  if (name == "trim") {
    auto v = bind_args(name, args, {{"chars", Value(None{})}});
    return Value(python_strip(value.str(), v[0], true, true));
  }
  if (name == "upper" || name == "lower" || name == "capitalize" ||
      name == "title") {
    no_args();
    std::string s = value.str();
    return Value(name == "upper"   ? python_upper(s)
                 : name == "lower" ? python_lower(s)
                 : name == "title" ? jinja_title(s)
                                   : python_capitalize(s));
  }
  if (name == "string") {
    no_args();
    return Value(value.str());
  }
  if (name == "safe") {
    no_args();
    return value;
  }
  if (name == "e" || name == "escape") {
    no_args();
    return Value(html_escape(value.str()));
  }
  if (name == "tojson") {
    return do_tojson(value, args);
  }
  if (name == "replace") {
    auto v = bind_args(
        name,
        args,
        {{"old", {}, true}, {"new", {}, true}, {"count", Value(None{})}});
    std::int64_t count = v[2].is_int() ? v[2].as_int() : -1;
    std::string out = python_replace(
        value.str(), need_string(v[0], name), need_string(v[1], name), count);
    budget.check_size(out.size());
    return Value(std::move(out));
  }
  if (name == "join") {
    auto v =
        bind_args(name, args, {{"d", Value("")}, {"attribute", Value(None{})}});
    std::string sep = v[0].str();
    std::string out;
    std::vector<Value> items = iterate(value);
    for (std::size_t i = 0; i < items.size(); ++i) {
      Value item = v[1].is_none() ? items[i] : lookup_path(items[i], v[1]);
      out += (i ? sep : "") + item.str();
      budget.check_size(out.size());
    }
    return Value(std::move(out));
  }
  if (name == "first" || name == "last") {
    no_args();
    std::vector<Value> items = iterate(value);
    if (items.empty()) {
      return Value(Undefined{"No " + name + " item, sequence was empty."});
    }
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") {
    no_args();
    return Value::list(iterate(value));
  }
  if (name == "items") {
    no_args();
    if (value.is_undefined()) {
      return Value::list({});
    }
    if (!value.is_dict()) {
      fault(FaultKind::runtime,
            "items needs a mapping, not " + value.type_name());
    }
    std::vector<Value> out;
    for (const auto& [key, item] : value.as_dict().items) {
      out.push_back(Value::list({Value(key), item}, true));
    }
    return Value::list(std::move(out));
  }
  if (name == "reverse") {
    no_args();
    if (value.is_string()) {
      std::vector<std::string> chars = characters(value.as_string());
      std::string out;
      for (auto it = chars.rbegin(); it != chars.rend(); ++it) {
        out += *it;
      }
      return Value(out);
    }
    std::vector<Value> items = iterate(value);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  if (name == "int") {
    auto v =
        bind_args(name, args, {{"default", Value(0)}, {"base", Value(10)}});
    return to_int(value, v[0]);
  }
  if (name == "float") {
    auto v = bind_args(name, args, {{"default", Value(0.0)}});
    return to_float(value, v[0]);
  }
  if (name == "abs") {
    no_args();
    if (value.is_int()) {
      return Value(value.as_int() < 0 ? -value.as_int() : value.as_int());
    }
    if (value.is_bool()) {
      return Value(static_cast<std::int64_t>(value.as_bool()));
    }
    if (value.is_float()) {
      return Value(std::fabs(value.as_double()));
    }
    require_defined(value);
    fault(FaultKind::runtime,
          "bad operand type for abs(): '" + value.type_name() + "'");
  }
  if (name == "round") {
    return do_round(value, args);
  }
  if (name == "indent") {
    return do_indent(value, args, budget);
  }
  if (name == "wordcount") {
    no_args();
    return Value(word_count(value.str()));
  }
  if (name == "center") {
    auto v = bind_args(name, args, {{"width", Value(80)}});
    std::string s = value.str();
    std::int64_t width =
        v[0].is_int() ? std::min<std::int64_t>(v[0].as_int(), 1 << 20) : 80;
    std::int64_t len = static_cast<std::int64_t>(characters(s).size());
    if (width <= len) {
      return Value(s);
    }
    // Python's str.center puts the odd space on the left when width is odd.
    std::int64_t pad = width - len;
    std::int64_t left = pad / 2 + (pad & width & 1);
    return Value(std::string(static_cast<std::size_t>(left), ' ') + s +
                 std::string(static_cast<std::size_t>(pad - left), ' '));
  }
  if (name == "sort") {
    return do_sort(value, args);
  }
  if (name == "dictsort") {
    return do_dictsort(value, args);
  }
  if (name == "unique") {
    return do_unique(value, args);
  }
  if (name == "min" || name == "max") {
    return do_min_max(name, value, args);
  }
  if (name == "sum") {
    auto v = bind_args(
        name, args, {{"attribute", Value(None{})}, {"start", Value(0)}});
    Value total = v[1];
    for (const Value& item : iterate(value)) {
      total = binary_op(
          "+", total, v[0].is_none() ? item : lookup_path(item, v[0]), budget);
    }
    return total;
  }
  if (name == "select" || name == "reject" || name == "selectattr" ||
      name == "rejectattr") {
    return do_select(name, value, args);
  }
  if (name == "map") {
    return do_map(value, args, budget);
  }
  if (name == "attr") {
    auto v = bind_args(name, args, {{"name", {}, true}});
    return get_attribute(value, v[0].str());
  }
  if (name == "format") {
    std::vector<Value> items = args.positional;
    return percent_format(need_string(value, name),
                          Value::list(std::move(items), true));
  }
  fault(FaultKind::unsupported, "no filter named '" + name + "'");
}

} // namespace mlxt::tokenizer::jinja
