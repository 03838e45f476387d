// Python methods a template may call on values ("x".strip(), d.items(),
// l.count(x), ...) and the Python string operations filters share. What the
// ImmutableSandboxedEnvironment forbids (list.append, dict.pop, ...) fails
// the way jinja2's sandbox does.
#pragma once

#include <string>
#include <vector>

#include "mlxt/tokenizer/jinja/value.h"

namespace mlxt::tokenizer::jinja {

//! `object.name` as a callable bound to `object`, or undefined when `object`
//! has no such method.
Value bound_method(const Value& object, const std::string& name);

//! Python's str.strip / lstrip / rstrip; `chars` undefined/none: whitespace.
std::string
python_strip(const std::string& s, const Value& chars, bool left, bool right);
std::string python_upper(std::string s);
std::string python_lower(std::string s);
//! Python's str.title() and str.capitalize().
std::string python_title(const std::string& s);
std::string python_capitalize(const std::string& s);
//! Python's str.replace(old, new, count); count < 0 replaces all.
std::string python_replace(const std::string& s,
                           const std::string& old,
                           const std::string& replacement,
                           std::int64_t count);
//! Python's str.split(sep, maxsplit); `sep` undefined/none: whitespace.
std::vector<std::string>
python_split(const std::string& s, const Value& sep, std::int64_t maxsplit);
//! Python's str.splitlines() (without keepends).
std::vector<std::string> python_splitlines(const std::string& s);
//! Python's `format % args` for %s, %d, %i, %r and %%.
Value percent_format(const std::string& format, const Value& args);

} // namespace mlxt::tokenizer::jinja
