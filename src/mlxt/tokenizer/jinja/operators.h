// Python semantics for what expressions do to values: arithmetic,
// comparison, membership, attribute and item lookup (jinja2's getattr /
// getitem fallbacks included), slicing and iteration.
#pragma once

#include <string>
#include <vector>

#include "mlxt/tokenizer/jinja/budget.h"
#include "mlxt/tokenizer/jinja/value.h"

namespace mlxt::tokenizer::jinja {

//! Throws Fault(runtime) "'name' is undefined" when `v` is undefined.
void require_defined(const Value& v);

//! `a op b` for + - * / // % **.
Value binary_op(const std::string& op,
                const Value& a,
                const Value& b,
                Budget& budget);
//! `a op b` for == != < > <= >= in, not in.
bool compare_op(const std::string& op, const Value& a, const Value& b);
//! Python's `item in container`.
bool contains(const Value& container, const Value& item);
//! Python's a < b for numbers, strings and sequences; Fault otherwise.
bool less_than(const Value& a, const Value& b);

//! `object.name`: methods first, then dict keys; missing -> undefined.
Value get_attribute(const Value& object, const std::string& name);
//! `object[key]`: keys and indexes first, then attributes for string keys.
Value get_item(const Value& object, const Value& key);
//! `object[start:stop:step]` for lists, tuples and strings.
Value get_slice(const Value& object,
                const Value& start,
                const Value& stop,
                const Value& step);
//! The items a for loop visits: list items, dict keys, string characters;
//! undefined iterates as empty.
std::vector<Value> iterate(const Value& v);

//! `s` split into its UTF-8 characters (a stray byte counts as one).
std::vector<std::string> characters(const std::string& s);

} // namespace mlxt::tokenizer::jinja
