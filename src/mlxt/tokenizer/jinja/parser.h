// Jinja parser: tokens -> statement tree, following jinja2's grammar and
// operator precedence. Constructs outside the chat-template subset
// (extends, include, import, block, ...) fail with Fault(unsupported)
// naming the tag.
#pragma once

#include <vector>

#include "mlxt/tokenizer/jinja/ast.h"
#include "mlxt/tokenizer/jinja/lexer.h"

namespace mlxt::tokenizer::jinja {

//! The statements of a whole template; throws Fault(syntax) with the line.
std::vector<StmtPtr> parse(const std::vector<Token>& tokens);

} // namespace mlxt::tokenizer::jinja
