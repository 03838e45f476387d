// Walks the statement tree and writes the output, with jinja2's scoping: a
// for-loop iteration and a macro call get their own scope, `if` does not,
// and macros see the scope they were defined in.
#pragma once

#include <string>
#include <vector>

#include "mlxt/tokenizer/jinja/ast.h"
#include "mlxt/tokenizer/jinja/budget.h"

namespace mlxt::tokenizer::jinja {

//! Renders `body` with `variables` (a dict) over the globals. Throws Fault
//! with the line of the statement or expression that failed.
std::string evaluate(const std::vector<StmtPtr>& body,
                     const Value& variables,
                     Budget& budget);

} // namespace mlxt::tokenizer::jinja
