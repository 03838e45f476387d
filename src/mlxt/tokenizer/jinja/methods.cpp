#include "mlxt/tokenizer/jinja/methods.h"

#include <algorithm>
#include <cctype>

#include "mlxt/tokenizer/jinja/arguments.h"
#include "mlxt/tokenizer/jinja/fault.h"
#include "mlxt/tokenizer/jinja/operators.h"

namespace mlxt::tokenizer::jinja {

namespace {

bool is_py_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

bool is_alpha(unsigned char c) {
  return std::isalpha(c) != 0;
}

const std::string& string_arg(const Value& v, const std::string& callee) {
  if (!v.is_string()) {
    require_defined(v);
    fault(FaultKind::runtime,
          callee + "() argument must be str, not " + v.type_name());
  }
  return v.as_string();
}

std::int64_t int_arg(const Value& v, const std::string& callee) {
  if (v.is_int()) {
    return v.as_int();
  }
  if (v.is_bool()) {
    return v.as_bool();
  }
  require_defined(v);
  fault(FaultKind::runtime,
        callee + "() argument must be int, not " + v.type_name());
}

// The Python index range [start, end) of an optional (start, end) pair.
std::pair<std::size_t, std::size_t>
char_range(const std::string& s, const Value& start, const Value& end) {
  std::int64_t n = static_cast<std::int64_t>(s.size());
  auto fix = [&](const Value& v, std::int64_t dflt) {
    if (v.is_undefined() || v.is_none()) {
      return dflt;
    }
    std::int64_t x = int_arg(v, "slice");
    if (x < 0) {
      x = std::max<std::int64_t>(0, x + n);
    }
    return std::min(x, n);
  };
  return {static_cast<std::size_t>(fix(start, 0)),
          static_cast<std::size_t>(fix(end, n))};
}

Value string_list(const std::vector<std::string>& parts) {
  std::vector<Value> items(parts.begin(), parts.end());
  return Value::list(std::move(items));
}

std::string format_method(const std::string& fmt, CallArgs& args) {
  std::string out;
  std::size_t auto_index = 0;
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        ++i;
      }
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    std::size_t close = fmt.find('}', i);
    if (close == std::string::npos) {
      fault(FaultKind::runtime, "Single '{' encountered in format string");
    }
    std::string field = fmt.substr(i + 1, close - i - 1);
    if (field.find_first_of(":!.[") != std::string::npos) {
      fault(FaultKind::unsupported,
            "str.format() field '{" + field +
                "}' (format specs, conversions "
                "and lookups are not supported)");
    }
    const Value* value = nullptr;
    if (field.empty() || std::isdigit(static_cast<unsigned char>(field[0]))) {
      std::size_t index = field.empty() ? auto_index++ : std::stoul(field);
      if (index >= args.positional.size()) {
        fault(FaultKind::runtime,
              "Replacement index " + std::to_string(index) +
                  " out of range for positional args");
      }
      value = &args.positional[index];
    } else {
      for (const auto& [key, v] : args.keyword) {
        if (key == field) {
          value = &v;
        }
      }
      if (value == nullptr) {
        fault(FaultKind::runtime, "KeyError: '" + field + "'");
      }
    }
    out += value->str();
    i = close;
  }
  return out;
}

std::int64_t count_of(const std::string& s, const std::string& sub) {
  if (sub.empty()) {
    return static_cast<std::int64_t>(characters(s).size()) + 1;
  }
  std::int64_t n = 0;
  for (std::size_t p = s.find(sub); p != std::string::npos;
       p = s.find(sub, p + sub.size())) {
    ++n;
  }
  return n;
}

bool affix_match(const std::string& s, const Value& affix, bool prefix) {
  auto one = [&](const Value& v) {
    const std::string& a = string_arg(v, prefix ? "startswith" : "endswith");
    return a.size() <= s.size() &&
           (prefix ? s.compare(0, a.size(), a) == 0
                   : s.compare(s.size() - a.size(), a.size(), a) == 0);
  };
  if (affix.is_list() && affix.as_list().is_tuple) {
    return std::any_of(
        affix.as_list().items.begin(), affix.as_list().items.end(), one);
  }
  return one(affix);
}

template <class Pred>
bool all_chars(const std::string& s, Pred pred) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return pred(static_cast<unsigned char>(c));
  });
}

Value string_method(const std::string& s,
                    const std::string& name,
                    CallArgs& args) {
  auto a = [&](std::vector<Param> params) {
    return bind_args(name, args, params);
  };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    auto v = a({{"chars", Value(None{})}});
    return Value(python_strip(s, v[0], name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    auto v = a({{"sep", Value(None{})}, {"maxsplit", Value(-1)}});
    std::int64_t maxsplit = int_arg(v[1], name);
    if (name == "rsplit" && maxsplit >= 0) {
      fault(FaultKind::unsupported, "rsplit() with maxsplit");
    }
    return string_list(python_split(s, v[0], maxsplit));
  }
  if (name == "splitlines") {
    a({});
    return string_list(python_splitlines(s));
  }
  if (name == "startswith" || name == "endswith") {
    auto v = a({{"prefix", {}, true},
                {"start", Value(None{})},
                {"end", Value(None{})}});
    auto [lo, hi] = char_range(s, v[1], v[2]);
    std::string part = lo < hi ? s.substr(lo, hi - lo) : "";
    return Value(affix_match(part, v[0], name == "startswith"));
  }
  if (name == "upper" || name == "lower" || name == "title" ||
      name == "capitalize") {
    a({});
    return Value(name == "upper"   ? python_upper(s)
                 : name == "lower" ? python_lower(s)
                 : name == "title" ? python_title(s)
                                   : python_capitalize(s));
  }
  if (name == "replace") {
    auto v = a({{"old", {}, true}, {"new", {}, true}, {"count", Value(-1)}});
    return Value(python_replace(s,
                                string_arg(v[0], name),
                                string_arg(v[1], name),
                                int_arg(v[2], name)));
  }
  if (name == "find" || name == "rfind" || name == "index" ||
      name == "rindex" || name == "count") {
    auto v = a(
        {{"sub", {}, true}, {"start", Value(None{})}, {"end", Value(None{})}});
    const std::string& sub = string_arg(v[0], name);
    auto [lo, hi] = char_range(s, v[1], v[2]);
    std::string part = lo < hi ? s.substr(lo, hi - lo) : "";
    if (name == "count") {
      return Value(count_of(part, sub));
    }
    std::size_t p = name[0] == 'r' ? part.rfind(sub) : part.find(sub);
    if (p == std::string::npos) {
      if (name.find("index") != std::string::npos) {
        fault(FaultKind::runtime, "substring not found");
      }
      return Value(-1);
    }
    // Report a character offset, as Python does.
    return Value(
        static_cast<std::int64_t>(characters(s.substr(0, lo + p)).size()));
  }
  if (name == "join") {
    auto v = a({{"iterable", {}, true}});
    std::string out;
    std::vector<Value> items = iterate(v[0]);
    for (std::size_t i = 0; i < items.size(); ++i) {
      out += (i ? s : "") + string_arg(items[i], "join");
    }
    return Value(out);
  }
  if (name == "format") {
    return Value(format_method(s, args));
  }
  if (name == "isdigit" || name == "isalpha" || name == "isalnum" ||
      name == "isspace" || name == "isupper" || name == "islower") {
    a({});
    if (name == "isdigit") {
      return Value(
          all_chars(s, [](unsigned char c) { return std::isdigit(c) != 0; }));
    }
    if (name == "isalpha") {
      return Value(all_chars(s, is_alpha));
    }
    if (name == "isalnum") {
      return Value(
          all_chars(s, [](unsigned char c) { return std::isalnum(c) != 0; }));
    }
    if (name == "isspace") {
      return Value(all_chars(s, is_py_space));
    }
    bool upper = name == "isupper";
    bool cased = false;
    for (unsigned char c : s) {
      if (std::isalpha(c)) {
        cased = true;
        if ((std::isupper(c) != 0) != upper) {
          return Value(false);
        }
      }
    }
    return Value(cased);
  }
  return Value(Undefined{name});
}

const char* const kStringMethods[] = {
    "strip",      "lstrip",   "rstrip",  "split",   "rsplit",  "splitlines",
    "startswith", "endswith", "upper",   "lower",   "title",   "capitalize",
    "replace",    "find",     "rfind",   "index",   "rindex",  "count",
    "join",       "format",   "isdigit", "isalpha", "isalnum", "isspace",
    "isupper",    "islower"};

// Methods that mutate; ImmutableSandboxedEnvironment refuses them.
const char* const kListMutators[] = {
    "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"};
const char* const kDictMutators[] = {
    "pop", "popitem", "setdefault", "update", "clear"};

template <std::size_t N>
bool listed(const char* const (&names)[N], const std::string& name) {
  return std::find_if(std::begin(names), std::end(names), [&](const char* n) {
           return name == n;
         }) != std::end(names);
}

Value unsafe(const Value& object, const std::string& name) {
  std::string type = object.type_name();
  return Value::function(name, [name, type](CallArgs&) -> Value {
    fault(FaultKind::runtime,
          "access to attribute '" + name + "' of '" + type +
              "' object is unsafe");
  });
}

} // namespace

Value bound_method(const Value& object, const std::string& name) {
  if (object.is_string()) {
    if (!listed(kStringMethods, name)) {
      return Value(Undefined{name});
    }
    std::string s = object.as_string();
    return Value::function(name, [s, name](CallArgs& args) {
      return string_method(s, name, args);
    });
  }
  if (object.is_dict() && !object.as_dict().is_namespace) {
    if (listed(kDictMutators, name)) {
      return unsafe(object, name);
    }
    if (name == "get") {
      return Value::function(name, [object](CallArgs& args) {
        auto v = bind_args(
            "get", args, {{"key", {}, true}, {"default", Value(None{})}});
        const Value* found = v[0].is_string()
                                 ? object.as_dict().find(v[0].as_string())
                                 : nullptr;
        return found ? *found : v[1];
      });
    }
    if (name == "items" || name == "keys" || name == "values" ||
        name == "copy") {
      return Value::function(name, [object, name](CallArgs& args) {
        bind_args(name, args, {});
        if (name == "copy") {
          Value out = Value::dict();
          out.as_dict() = object.as_dict();
          return out;
        }
        std::vector<Value> out;
        for (const auto& [key, value] : object.as_dict().items) {
          if (name == "items") {
            out.push_back(Value::list({Value(key), value}, true));
          } else {
            out.push_back(name == "keys" ? Value(key) : value);
          }
        }
        return Value::list(std::move(out));
      });
    }
    return Value(Undefined{name});
  }
  if (object.is_list()) {
    if (listed(kListMutators, name)) {
      return unsafe(object, name);
    }
    if (name == "count" || name == "index") {
      return Value::function(name, [object, name](CallArgs& args) {
        auto v = bind_args(name, args, {{"value", {}, true}});
        const auto& items = object.as_list().items;
        std::int64_t n = 0;
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (items[i].equals(v[0])) {
            if (name == "index") {
              return Value(static_cast<std::int64_t>(i));
            }
            ++n;
          }
        }
        if (name == "index") {
          fault(FaultKind::runtime, v[0].repr() + " is not in list");
        }
        return Value(n);
      });
    }
  }
  return Value(Undefined{name});
}

std::string
python_strip(const std::string& s, const Value& chars, bool left, bool right) {
  std::vector<std::string> set;
  bool whitespace = chars.is_undefined() || chars.is_none();
  if (!whitespace) {
    set = characters(string_arg(chars, "strip"));
  }
  std::vector<std::string> cs = characters(s);
  auto strip_me = [&](const std::string& c) {
    if (whitespace) {
      return c.size() == 1 && is_py_space(static_cast<unsigned char>(c[0]));
    }
    return std::find(set.begin(), set.end(), c) != set.end();
  };
  std::size_t lo = 0;
  std::size_t hi = cs.size();
  while (left && lo < hi && strip_me(cs[lo])) {
    ++lo;
  }
  while (right && hi > lo && strip_me(cs[hi - 1])) {
    --hi;
  }
  std::string out;
  for (std::size_t i = lo; i < hi; ++i) {
    out += cs[i];
  }
  return out;
}

std::string python_upper(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

std::string python_lower(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

std::string python_title(const std::string& s) {
  std::string out = s;
  bool previous_cased = false;
  for (char& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalpha(u)) {
      c = static_cast<char>(previous_cased ? std::tolower(u) : std::toupper(u));
      previous_cased = true;
    } else {
      previous_cased = false;
    }
  }
  return out;
}

std::string python_capitalize(const std::string& s) {
  std::string out = python_lower(s);
  if (!out.empty()) {
    out[0] =
        static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  }
  return out;
}

std::string python_replace(const std::string& s,
                           const std::string& old,
                           const std::string& replacement,
                           std::int64_t count) {
  if (old.empty()) {
    // Python inserts the replacement between characters and at both ends.
    std::string out;
    std::int64_t done = 0;
    for (const std::string& c : characters(s)) {
      if (count < 0 || done < count) {
        out += replacement;
        ++done;
      }
      out += c;
    }
    if (count < 0 || done < count) {
      out += replacement;
    }
    return out;
  }
  std::string out;
  std::size_t pos = 0;
  std::int64_t done = 0;
  while (count < 0 || done < count) {
    std::size_t hit = s.find(old, pos);
    if (hit == std::string::npos) {
      break;
    }
    out.append(s, pos, hit - pos);
    out += replacement;
    pos = hit + old.size();
    ++done;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

std::vector<std::string>
python_split(const std::string& s, const Value& sep, std::int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep.is_undefined() || sep.is_none()) {
    std::size_t i = 0;
    while (true) {
      while (i < s.size() && is_py_space(static_cast<unsigned char>(s[i]))) {
        ++i;
      }
      if (i >= s.size()) {
        break;
      }
      if (maxsplit >= 0 && static_cast<std::int64_t>(out.size()) == maxsplit) {
        std::size_t end = s.size();
        while (end > i && is_py_space(static_cast<unsigned char>(s[end - 1]))) {
          --end;
        }
        out.push_back(s.substr(i, end - i));
        break;
      }
      std::size_t j = i;
      while (j < s.size() && !is_py_space(static_cast<unsigned char>(s[j]))) {
        ++j;
      }
      out.push_back(s.substr(i, j - i));
      i = j;
    }
    return out;
  }
  const std::string& d = string_arg(sep, "split");
  if (d.empty()) {
    fault(FaultKind::runtime, "empty separator");
  }
  std::size_t pos = 0;
  while (maxsplit < 0 || static_cast<std::int64_t>(out.size()) < maxsplit) {
    std::size_t hit = s.find(d, pos);
    if (hit == std::string::npos) {
      break;
    }
    out.push_back(s.substr(pos, hit - pos));
    pos = hit + d.size();
  }
  out.push_back(s.substr(pos));
  return out;
}

std::vector<std::string> python_splitlines(const std::string& s) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
        (c >= '\x1c' && c <= '\x1e')) {
      lines.push_back(s.substr(start, i - start));
      if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
        ++i;
      }
      start = i + 1;
    }
  }
  if (start < s.size()) {
    lines.push_back(s.substr(start));
  }
  return lines;
}

Value percent_format(const std::string& format, const Value& args) {
  std::vector<Value> values;
  if (args.is_list() && args.as_list().is_tuple) {
    values = args.as_list().items;
  } else {
    values.push_back(args);
  }
  std::size_t next = 0;
  std::string out;
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    if (i + 1 >= format.size()) {
      fault(FaultKind::runtime, "incomplete format");
    }
    char conv = format[++i];
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (conv != 's' && conv != 'd' && conv != 'i' && conv != 'r') {
      fault(FaultKind::unsupported,
            std::string("'%") + conv +
                "' in string formatting (only %s, %d, "
                "%i, %r and %% are supported)");
    }
    if (next >= values.size()) {
      fault(FaultKind::runtime, "not enough arguments for format string");
    }
    const Value& v = values[next++];
    if (conv == 's') {
      out += v.str();
    } else if (conv == 'r') {
      out += v.repr();
    } else if (v.is_int() || v.is_bool()) {
      out += std::to_string(v.is_int() ? v.as_int() : v.as_bool());
    } else if (v.is_float()) {
      out += std::to_string(static_cast<std::int64_t>(v.as_double()));
    } else {
      fault(FaultKind::runtime,
            "%d format: a real number is required, not " + v.type_name());
    }
  }
  if (next < values.size()) {
    fault(FaultKind::runtime,
          "not all arguments converted during string formatting");
  }
  return Value(out);
}

} // namespace mlxt::tokenizer::jinja
