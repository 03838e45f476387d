#include "mlxt/tokenizer/jinja/globals.h"

#include <ctime>

#include "mlxt/tokenizer/jinja/arguments.h"
#include "mlxt/tokenizer/jinja/operators.h"

namespace mlxt::tokenizer::jinja {

namespace {

// jinja2's sandbox refuses ranges longer than this (MAX_RANGE).
constexpr std::int64_t kMaxRange = 100000;

std::int64_t int_arg(const Value& v) {
  if (v.is_int()) {
    return v.as_int();
  }
  if (v.is_bool()) {
    return v.as_bool();
  }
  require_defined(v);
  fault(FaultKind::runtime,
        "'" + v.type_name() + "' object cannot be interpreted as an integer");
}

Value range(CallArgs& args) {
  if (!args.keyword.empty() || args.positional.empty() ||
      args.positional.size() > 3) {
    fault(FaultKind::runtime, "range() takes 1 to 3 positional arguments");
  }
  std::int64_t start = 0;
  std::int64_t stop = 0;
  std::int64_t step = 1;
  if (args.positional.size() == 1) {
    stop = int_arg(args.positional[0]);
  } else {
    start = int_arg(args.positional[0]);
    stop = int_arg(args.positional[1]);
    if (args.positional.size() == 3) {
      step = int_arg(args.positional[2]);
    }
  }
  if (step == 0) {
    fault(FaultKind::runtime, "range() arg 3 must not be zero");
  }
  // Python's len(range(...)), computed without overflow.
  __int128 span = step > 0 ? static_cast<__int128>(stop) - start
                           : static_cast<__int128>(start) - stop;
  __int128 abs_step = step > 0 ? step : -static_cast<__int128>(step);
  __int128 length = span <= 0 ? 0 : (span + abs_step - 1) / abs_step;
  if (length > kMaxRange) {
    fault(FaultKind::runtime,
          "Range too big. The sandbox blocks ranges larger than MAX_RANGE "
          "(100000).");
  }
  std::vector<Value> items;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(length); ++i) {
    items.emplace_back(start + i * step);
  }
  return Value::list(std::move(items));
}

// dict(mapping, **kwargs) and namespace(mapping, **kwargs).
Value make_mapping(CallArgs& args, bool is_namespace) {
  const char* name = is_namespace ? "namespace" : "dict";
  if (args.positional.size() > 1) {
    fault(FaultKind::runtime,
          std::string(name) + "() takes at most one positional argument");
  }
  Value out = Value::dict();
  out.as_dict().is_namespace = is_namespace;
  if (!args.positional.empty()) {
    const Value& init = args.positional[0];
    if (!init.is_dict()) {
      fault(FaultKind::unsupported,
            std::string(name) + "() from a " + init.type_name() +
                " (only a mapping or keyword arguments)");
    }
    out.as_dict() = init.as_dict();
    out.as_dict().is_namespace = is_namespace;
  }
  for (auto& [key, value] : args.keyword) {
    if (is_namespace && !key.empty() && key[0] == '_') {
      fault(FaultKind::runtime,
            "Chat templates cannot store underscore-prefixed attributes on a "
            "namespace, but got '" +
                key + "'");
    }
    out.as_dict().set(key, value);
  }
  return out;
}

Value strftime_now(CallArgs& args) {
  auto v = bind_args("strftime_now", args, {{"format", {}, true}});
  if (!v[0].is_string()) {
    fault(FaultKind::runtime, "strftime_now() needs a format string");
  }
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buf[512];
  std::size_t n =
      std::strftime(buf, sizeof buf, v[0].as_string().c_str(), &local);
  return Value(std::string(buf, n));
}

} // namespace

Value make_globals(Budget& budget) {
  Value g = Value::dict();
  Dict& d = g.as_dict();
  d.set("range", Value::function("range", [&budget](CallArgs& args) {
          budget.step();
          return range(args);
        }));
  d.set("namespace", Value::function("namespace", [](CallArgs& args) {
          return make_mapping(args, true);
        }));
  d.set("dict", Value::function("dict", [](CallArgs& args) {
          return make_mapping(args, false);
        }));
  d.set("raise_exception",
        Value::function("raise_exception", [](CallArgs& args) -> Value {
          auto v = bind_args("raise_exception", args, {{"message", {}, true}});
          fault(FaultKind::raised, v[0].str());
        }));
  d.set("strftime_now", Value::function("strftime_now", strftime_now));
  return g;
}

} // namespace mlxt::tokenizer::jinja
