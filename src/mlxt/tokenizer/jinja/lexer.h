// Jinja lexer: template text -> tokens, with Hugging Face's settings
// (trim_blocks, lstrip_blocks, no trailing newline kept) and the `-`/`+`
// whitespace-control marks applied here, so the parser only sees the text
// that will be printed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mlxt::tokenizer::jinja {

enum class TokenType {
  text,        // literal template text
  var_begin,   // {{
  var_end,     // }}
  block_begin, // {%
  block_end,   // %}
  name,
  string, // value holds the unescaped literal
  integer,
  floating,
  op, // value holds the operator: "+", "//", "==", "(", ...
  eof,
};

struct Token {
  TokenType type;
  std::string value;
  long line; // 1-based
};

//! Splits `source` into tokens; throws Fault(syntax) naming the line for an
//! unterminated tag, comment or string, or a character Jinja does not know.
std::vector<Token> tokenize(std::string_view source);

} // namespace mlxt::tokenizer::jinja
