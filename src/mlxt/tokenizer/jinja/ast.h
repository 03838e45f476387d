// The syntax tree the parser builds and the evaluator walks. One node type
// for expressions and one for statements keep the tree small; each kind
// documents which fields it uses.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mlxt/tokenizer/jinja/value.h"

namespace mlxt::tokenizer::jinja {

enum class ExprKind {
  literal,   // value
  name,      // name
  list,      // children: items
  tuple,     // children: items
  dict,      // children: key0, value0, key1, value1, ...
  attribute, // children[0].name
  item,      // children[0][children[1]]
  slice,     // children[0][children[1]:children[2]:children[3]], null = absent
  call,      // children[0](children[1..], kwargs, *star_args, **star_kwargs)
  filter,    // children[0] | name(children[1..], kwargs)
  test,      // children[0] is [not] name(children[1..], kwargs)
  unary,     // name ("not", "-", "+") children[0]
  binary,    // children[0] name children[1]; name is an operator, "and", "or"
  compare,   // children[0] ops[0] children[1] ops[1] children[2] ...
  concat,    // children joined with ~
  condition, // children[0] if children[1] else children[2] (null: undefined)
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind;
  long line = 0;
  Value value;
  std::string name;
  std::vector<ExprPtr> children;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops; // compare: "==", "in", "not in", ...
  ExprPtr star_args;            // call, filter, test: *list, or null
  ExprPtr star_kwargs;          // call, filter, test: **dict, or null
  bool negated = false;         // test: `is not`
  int depth = 1;                // height of this subtree
};

enum class StmtKind {
  text,         // text
  output,       // {{ expr }}
  if_,          // if expr: body, else: else_body (an elif is a nested if_)
  for_,         // for targets in expr [if condition]: body, else: else_body
  set,          // set targets = expr, or set targets[0].attribute = expr
  set_block,    // set targets[0]: body
  macro,        // macro name(params): body
  call_block,   // call(params) expr: body (the body is `caller`)
  filter_block, // filter expr (children[0] null): body
  break_,
  continue_,
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;

struct Stmt {
  StmtKind kind;
  long line = 0;
  std::string text;
  std::string name;      // macro name
  std::string attribute; // set ns.attribute
  ExprPtr expr;
  ExprPtr condition; // for ... if condition
  std::vector<std::string> targets;
  std::vector<std::pair<std::string, ExprPtr>> params; // null: no default
  std::vector<StmtPtr> body;
  std::vector<StmtPtr> else_body;
};

} // namespace mlxt::tokenizer::jinja
