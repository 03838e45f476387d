// Jinja filters (`x | trim`, `tools | tojson(indent=4)`, ...) with jinja2's
// semantics; `tojson` is Hugging Face's (json.dumps, ensure_ascii=False).
#pragma once

#include <string>

#include "mlxt/tokenizer/jinja/budget.h"
#include "mlxt/tokenizer/jinja/value.h"

namespace mlxt::tokenizer::jinja {

//! True when `name` is a filter this engine implements.
bool is_known_filter(const std::string& name);
//! True when `name` is a test this engine implements.
bool is_known_test(const std::string& name);

//! The result of `value | name(args)`.
Value apply_filter(const std::string& name,
                   const Value& value,
                   CallArgs& args,
                   Budget& budget);

} // namespace mlxt::tokenizer::jinja
