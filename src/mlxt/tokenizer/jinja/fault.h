// How the template engine reports a problem before it knows where it is: the
// lexer, parser and evaluator throw Fault; Template turns it into one
// mlxt::Error naming the template's file, key and line.
#pragma once

#include <stdexcept>
#include <string>

namespace mlxt::tokenizer::jinja {

enum class FaultKind {
  syntax,      // the template text does not parse
  unsupported, // valid Jinja this engine does not implement
  runtime,     // jinja2 would raise too (type error, undefined, ...)
  raised,      // the template called raise_exception(message)
  budget,      // the step or output limit was reached
};

struct Fault : std::runtime_error {
  Fault(FaultKind kind_, const std::string& message, long line_ = 0)
      : std::runtime_error(message), kind(kind_), line(line_) {}
  FaultKind kind;
  long line; // 1-based template line; 0 until someone knows it
};

//! Throws Fault(kind, message).
[[noreturn]] inline void fault(FaultKind kind, const std::string& message) {
  throw Fault(kind, message);
}

} // namespace mlxt::tokenizer::jinja
