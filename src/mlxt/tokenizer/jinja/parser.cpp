#include "mlxt/tokenizer/jinja/parser.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <initializer_list>

#include "mlxt/tokenizer/jinja/fault.h"
#include "mlxt/tokenizer/jinja/filters.h"

namespace mlxt::tokenizer::jinja {

namespace {

const char* describe(TokenType type) {
  switch (type) {
  case TokenType::text:
    return "template text";
  case TokenType::var_begin:
    return "'{{'";
  case TokenType::var_end:
    return "'}}'";
  case TokenType::block_begin:
    return "'{%'";
  case TokenType::block_end:
    return "'%}'";
  case TokenType::name:
    return "name";
  case TokenType::string:
    return "string";
  case TokenType::integer:
    return "integer";
  case TokenType::floating:
    return "float";
  case TokenType::op:
    return "operator";
  default:
    return "end of template";
  }
}

ExprPtr make(ExprKind kind, long line) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = line;
  return e;
}

class Parser {
public:
  explicit Parser(const std::vector<Token>& tokens) : t_(tokens) {}

  std::vector<StmtPtr> run() {
    std::vector<StmtPtr> body = parse_body({});
    return body;
  }

private:
  // Deep nesting would exhaust the stack when parsing, evaluating or freeing
  // the tree; jinja2 fails on it too (Python's recursion limit).
  static constexpr int kMaxNesting = 200;

  struct Nesting {
    explicit Nesting(Parser& p) : parser(p) {
      if (++parser.nesting_ > kMaxNesting) {
        throw Fault(FaultKind::unsupported,
                    "the template nests deeper than " +
                        std::to_string(kMaxNesting) + " levels",
                    parser.peek().line);
      }
    }
    ~Nesting() { --parser.nesting_; }
    Parser& parser;
  };

  // Records the height of a finished node; fails past kMaxNesting.
  ExprPtr done(ExprPtr e) {
    int depth = 0;
    for (const ExprPtr& c : e->children) {
      depth = c ? std::max(depth, c->depth) : depth;
    }
    for (const auto& kw : e->kwargs) {
      depth = std::max(depth, kw.second->depth);
    }
    for (const ExprPtr* c : {&e->star_args, &e->star_kwargs}) {
      depth = *c ? std::max(depth, (*c)->depth) : depth;
    }
    e->depth = depth + 1;
    if (e->depth > kMaxNesting) {
      throw Fault(FaultKind::unsupported,
                  "an expression nests deeper than " +
                      std::to_string(kMaxNesting) + " levels",
                  e->line);
    }
    return e;
  }

  const Token& peek(std::size_t ahead = 0) const {
    return t_[std::min(i_ + ahead, t_.size() - 1)];
  }
  const Token& next() {
    const Token& tok = t_[i_];
    if (i_ + 1 < t_.size()) {
      ++i_;
    }
    return tok;
  }
  bool is_op(const char* op, std::size_t ahead = 0) const {
    return peek(ahead).type == TokenType::op && peek(ahead).value == op;
  }
  bool is_name(const char* name, std::size_t ahead = 0) const {
    return peek(ahead).type == TokenType::name && peek(ahead).value == name;
  }
  bool skip_op(const char* op) {
    if (is_op(op)) {
      next();
      return true;
    }
    return false;
  }
  bool skip_name(const char* name) {
    if (is_name(name)) {
      next();
      return true;
    }
    return false;
  }
  [[noreturn]] void unexpected(const std::string& expected) const {
    const Token& tok = peek();
    std::string got = tok.type == TokenType::name || tok.type == TokenType::op
                          ? "'" + tok.value + "'"
                          : describe(tok.type);
    throw Fault(FaultKind::syntax,
                "expected " + expected + " but found " + got,
                tok.line);
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) {
      unexpected(std::string("'") + op + "'");
    }
  }
  std::string expect_name() {
    if (peek().type != TokenType::name) {
      unexpected("a name");
    }
    return next().value;
  }
  void expect_block_end() {
    if (peek().type != TokenType::block_end) {
      unexpected("end of statement '%}'");
    }
    next();
  }

  // Statements until a block tag whose first name is in `ends` (which is
  // consumed along with the name); `ends` empty means until the end.
  std::vector<StmtPtr> parse_body(std::initializer_list<const char*> ends,
                                  std::string* found = nullptr) {
    std::vector<StmtPtr> body;
    while (true) {
      const Token& tok = peek();
      if (tok.type == TokenType::eof) {
        if (ends.size() != 0) {
          std::string names;
          for (const char* e : ends) {
            names += (names.empty() ? "'" : " or '") + std::string(e) + "'";
          }
          throw Fault(FaultKind::syntax,
                      "unexpected end of template; expected " + names +
                          " to close a block",
                      tok.line);
        }
        return body;
      }
      if (tok.type == TokenType::text) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::text;
        s->line = tok.line;
        s->text = next().value;
        body.push_back(std::move(s));
      } else if (tok.type == TokenType::var_begin) {
        next();
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::output;
        s->line = tok.line;
        s->expr = parse_tuple(true);
        if (peek().type != TokenType::var_end) {
          unexpected("end of print statement '}}'");
        }
        next();
        body.push_back(std::move(s));
      } else if (tok.type == TokenType::block_begin) {
        const Token& head = peek(1);
        if (head.type == TokenType::name) {
          for (const char* e : ends) {
            if (head.value == e) {
              next();
              next();
              if (found != nullptr) {
                *found = head.value;
              }
              return body;
            }
          }
        }
        next();
        body.push_back(parse_statement());
      } else {
        unexpected("template text or a tag");
      }
    }
  }

  StmtPtr parse_statement() {
    Nesting guard(*this);
    const Token& head = peek();
    if (head.type != TokenType::name) {
      unexpected("a statement name");
    }
    auto s = std::make_unique<Stmt>();
    s->line = head.line;
    std::string tag = next().value;
    if (tag == "if") {
      parse_if(*s);
    } else if (tag == "for") {
      parse_for(*s);
    } else if (tag == "set") {
      parse_set(*s);
    } else if (tag == "macro") {
      parse_macro(*s);
    } else if (tag == "call") {
      parse_call_block(*s);
    } else if (tag == "filter") {
      s->kind = StmtKind::filter_block;
      s->expr = parse_filter(nullptr, true);
      expect_block_end();
      s->body = parse_body({"endfilter"});
      expect_block_end();
    } else if (tag == "break" || tag == "continue") {
      s->kind = tag == "break" ? StmtKind::break_ : StmtKind::continue_;
      expect_block_end();
    } else if (tag == "generation") {
      // HF's extension that marks assistant text: renders its body as is.
      s->kind = StmtKind::if_;
      s->expr = make(ExprKind::literal, s->line);
      s->expr->value = Value(true);
      expect_block_end();
      s->body = parse_body({"endgeneration"});
      expect_block_end();
    } else if (tag == "elif" || tag == "else" || tag.rfind("end", 0) == 0) {
      throw Fault(FaultKind::syntax,
                  "unexpected '" + tag + "' with no open block to close",
                  head.line);
    } else {
      throw Fault(FaultKind::unsupported,
                  "the '" + tag + "' tag is not supported by this Jinja engine",
                  head.line);
    }
    return s;
  }

  void parse_if(Stmt& s) {
    s.kind = StmtKind::if_;
    s.expr = parse_tuple(true);
    expect_block_end();
    std::string found;
    s.body = parse_body({"elif", "else", "endif"}, &found);
    if (found == "elif") {
      auto nested = std::make_unique<Stmt>();
      nested->line = peek().line;
      parse_if(*nested);
      s.else_body.push_back(std::move(nested));
      return;
    }
    if (found == "else") {
      expect_block_end();
      s.else_body = parse_body({"endif"});
    }
    expect_block_end();
  }

  std::vector<std::string> parse_targets(bool* parenthesized = nullptr) {
    std::vector<std::string> names;
    bool paren = skip_op("(");
    do {
      if (paren && is_op(")")) {
        break;
      }
      names.push_back(expect_name());
    } while (skip_op(","));
    if (paren) {
      expect_op(")");
    }
    if (parenthesized != nullptr) {
      *parenthesized = paren;
    }
    return names;
  }

  void parse_for(Stmt& s) {
    s.kind = StmtKind::for_;
    s.targets = parse_targets();
    if (!skip_name("in")) {
      unexpected("'in'");
    }
    s.expr = parse_tuple(false);
    if (skip_name("if")) {
      s.condition = parse_expression(true);
    }
    if (is_name("recursive")) {
      throw Fault(FaultKind::unsupported,
                  "recursive for loops are not supported",
                  peek().line);
    }
    expect_block_end();
    std::string found;
    s.body = parse_body({"else", "endfor"}, &found);
    if (found == "else") {
      expect_block_end();
      s.else_body = parse_body({"endfor"});
    }
    expect_block_end();
  }

  void parse_set(Stmt& s) {
    std::string first = expect_name();
    if (skip_op(".")) {
      s.targets = {first};
      s.attribute = expect_name();
    } else {
      s.targets = {first};
      while (skip_op(",")) {
        s.targets.push_back(expect_name());
      }
    }
    if (skip_op("=")) {
      s.kind = StmtKind::set;
      s.expr = parse_tuple(true);
      expect_block_end();
      return;
    }
    if (!s.attribute.empty() || s.targets.size() != 1) {
      unexpected("'='");
    }
    s.kind = StmtKind::set_block;
    if (is_op("|")) {
      s.expr = parse_filter(nullptr, false);
    }
    expect_block_end();
    s.body = parse_body({"endset"});
    expect_block_end();
  }

  void parse_params(Stmt& s) {
    expect_op("(");
    while (!is_op(")")) {
      if (!s.params.empty()) {
        expect_op(",");
      }
      std::string name = expect_name();
      ExprPtr def;
      if (skip_op("=")) {
        def = parse_expression(true);
      }
      s.params.emplace_back(name, std::move(def));
    }
    expect_op(")");
  }

  void parse_macro(Stmt& s) {
    s.kind = StmtKind::macro;
    s.name = expect_name();
    parse_params(s);
    expect_block_end();
    s.body = parse_body({"endmacro"});
    if (peek().type == TokenType::name) {
      next(); // {% endmacro name %}
    }
    expect_block_end();
  }

  void parse_call_block(Stmt& s) {
    s.kind = StmtKind::call_block;
    if (is_op("(")) {
      parse_params(s);
    }
    s.expr = parse_expression(true);
    if (s.expr->kind != ExprKind::call) {
      throw Fault(FaultKind::syntax, "expected a call after 'call'", s.line);
    }
    expect_block_end();
    s.body = parse_body({"endcall"});
    expect_block_end();
  }

  // -- expressions, lowest precedence first ---------------------------------

  // `a, b` makes a tuple where jinja2 allows one (print, set, for, if).
  ExprPtr parse_tuple(bool with_condition) {
    long line = peek().line;
    ExprPtr first = parse_expression(with_condition);
    if (!is_op(",")) {
      return first;
    }
    auto tuple = make(ExprKind::tuple, line);
    tuple->children.push_back(std::move(first));
    while (skip_op(",")) {
      if (peek().type == TokenType::block_end ||
          peek().type == TokenType::var_end || is_name("if")) {
        break;
      }
      tuple->children.push_back(parse_expression(with_condition));
    }
    return done(std::move(tuple));
  }

  ExprPtr parse_expression(bool with_condition) {
    Nesting guard(*this);
    return with_condition ? parse_condition() : parse_or();
  }

  ExprPtr parse_condition() {
    ExprPtr expr = parse_or();
    while (is_name("if")) {
      long line = next().line;
      auto cond = make(ExprKind::condition, line);
      ExprPtr test = parse_or();
      ExprPtr otherwise;
      if (skip_name("else")) {
        otherwise = parse_condition();
      }
      cond->children.push_back(std::move(expr));
      cond->children.push_back(std::move(test));
      cond->children.push_back(std::move(otherwise));
      expr = done(std::move(cond));
    }
    return expr;
  }

  ExprPtr binary(const std::string& op, ExprPtr left, ExprPtr right) {
    auto e = make(ExprKind::binary, left->line);
    e->name = op;
    e->children.push_back(std::move(left));
    e->children.push_back(std::move(right));
    return done(std::move(e));
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (skip_name("or")) {
      left = binary("or", std::move(left), parse_and());
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (skip_name("and")) {
      left = binary("and", std::move(left), parse_not());
    }
    return left;
  }

  ExprPtr parse_not() {
    Nesting guard(*this);
    if (is_name("not")) {
      auto e = make(ExprKind::unary, next().line);
      e->name = "not";
      e->children.push_back(parse_not());
      return done(std::move(e));
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (peek().type == TokenType::op &&
          (is_op("==") || is_op("!=") || is_op("<") || is_op(">") ||
           is_op("<=") || is_op(">="))) {
        op = next().value;
      } else if (skip_name("in")) {
        op = "in";
      } else if (is_name("not") && is_name("in", 1)) {
        next();
        next();
        op = "not in";
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(ExprKind::compare, first->line);
        cmp->children.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->children.push_back(parse_math1());
    }
    return cmp ? done(std::move(cmp)) : std::move(first);
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = next().value;
      left = binary(op, std::move(left), parse_concat());
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr first = parse_math2();
    if (!is_op("~")) {
      return first;
    }
    auto e = make(ExprKind::concat, first->line);
    e->children.push_back(std::move(first));
    while (skip_op("~")) {
      e->children.push_back(parse_math2());
    }
    return done(std::move(e));
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = next().value;
      left = binary(op, std::move(left), parse_pow());
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (skip_op("**")) {
      left = binary("**", std::move(left), parse_unary(true));
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    Nesting guard(*this);
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      node = make(ExprKind::unary, peek().line);
      node->name = next().value;
      node->children.push_back(parse_unary(false));
      node = done(std::move(node));
    } else {
      node = parse_postfix(parse_primary());
    }
    return with_filter ? parse_filter_expr(std::move(node)) : std::move(node);
  }

  ExprPtr parse_primary() {
    const Token& tok = peek();
    long line = tok.line;
    if (tok.type == TokenType::name) {
      std::string name = next().value;
      auto e = make(ExprKind::literal, line);
      if (name == "true" || name == "True") {
        e->value = Value(true);
      } else if (name == "false" || name == "False") {
        e->value = Value(false);
      } else if (name == "none" || name == "None") {
        e->value = Value(None{});
      } else {
        e->kind = ExprKind::name;
        e->name = name;
      }
      return done(std::move(e));
    }
    if (tok.type == TokenType::string) {
      std::string text;
      while (peek().type == TokenType::string) {
        text += next().value; // adjacent literals join, as in Python
      }
      auto e = make(ExprKind::literal, line);
      e->value = Value(std::move(text));
      return done(std::move(e));
    }
    if (tok.type == TokenType::integer || tok.type == TokenType::floating) {
      auto e = make(ExprKind::literal, line);
      const std::string& text = next().value;
      if (tok.type == TokenType::floating) {
        e->value = Value(std::strtod(text.c_str(), nullptr));
      } else {
        std::int64_t v = 0;
        auto res = std::from_chars(text.data(), text.data() + text.size(), v);
        if (res.ec != std::errc()) {
          throw Fault(FaultKind::unsupported,
                      "integer literal " + text + " does not fit 64 bits",
                      line);
        }
        e->value = Value(v);
      }
      return done(std::move(e));
    }
    if (skip_op("(")) {
      if (skip_op(")")) {
        auto e = make(ExprKind::tuple, line);
        return done(std::move(e));
      }
      ExprPtr first = parse_expression(true);
      if (is_op(",")) {
        auto e = make(ExprKind::tuple, line);
        e->children.push_back(std::move(first));
        while (skip_op(",") && !is_op(")")) {
          e->children.push_back(parse_expression(true));
        }
        first = done(std::move(e));
      }
      expect_op(")");
      return first;
    }
    if (skip_op("[")) {
      auto e = make(ExprKind::list, line);
      while (!is_op("]")) {
        if (!e->children.empty()) {
          expect_op(",");
          if (is_op("]")) {
            break;
          }
        }
        e->children.push_back(parse_expression(true));
      }
      expect_op("]");
      return done(std::move(e));
    }
    if (skip_op("{")) {
      auto e = make(ExprKind::dict, line);
      while (!is_op("}")) {
        if (!e->children.empty()) {
          expect_op(",");
          if (is_op("}")) {
            break;
          }
        }
        e->children.push_back(parse_expression(true));
        expect_op(":");
        e->children.push_back(parse_expression(true));
      }
      expect_op("}");
      return done(std::move(e));
    }
    unexpected("an expression");
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is_op(".") || is_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is_op("|")) {
        node = parse_filter(std::move(node), false);
      } else if (is_name("is")) {
        node = parse_test(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
    const Token& tok = next();
    if (tok.value == ".") {
      if (peek().type == TokenType::integer) {
        auto e = make(ExprKind::item, tok.line);
        e->children.push_back(std::move(node));
        auto index = make(ExprKind::literal, tok.line);
        index->value = Value(static_cast<std::int64_t>(
            std::strtoll(next().value.c_str(), nullptr, 10)));
        e->children.push_back(std::move(index));
        return done(std::move(e));
      }
      auto e = make(ExprKind::attribute, tok.line);
      e->name = expect_name();
      e->children.push_back(std::move(node));
      return done(std::move(e));
    }
    // '[': an index, or a slice with optional start, stop and step.
    ExprPtr parts[3];
    bool is_slice = false;
    int part = 0;
    while (!is_op("]")) {
      if (is_op(":")) {
        next();
        is_slice = true;
        if (++part > 2) {
          unexpected("']'");
        }
        continue;
      }
      if (parts[part]) {
        unexpected("':' or ']'");
      }
      parts[part] = parse_expression(true);
      if (!is_slice && is_op(",")) {
        throw Fault(FaultKind::unsupported,
                    "tuple subscripts are not supported",
                    tok.line);
      }
    }
    next();
    if (!is_slice) {
      if (!parts[0]) {
        unexpected("an index");
      }
      auto e = make(ExprKind::item, tok.line);
      e->children.push_back(std::move(node));
      e->children.push_back(std::move(parts[0]));
      return done(std::move(e));
    }
    auto e = make(ExprKind::slice, tok.line);
    e->children.push_back(std::move(node));
    for (auto& p : parts) {
      e->children.push_back(std::move(p));
    }
    return done(std::move(e));
  }

  // Arguments after '(' into `e` (children after the first, kwargs, and
  // *args / **kwargs).
  void parse_args(Expr& e) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) {
        expect_op(",");
        if (is_op(")")) {
          break;
        }
      }
      first = false;
      if (skip_op("*")) {
        e.star_args = parse_expression(true);
      } else if (skip_op("**")) {
        e.star_kwargs = parse_expression(true);
      } else if (peek().type == TokenType::name && is_op("=", 1)) {
        std::string key = next().value;
        next();
        e.kwargs.emplace_back(key, parse_expression(true));
      } else {
        if (!e.kwargs.empty() || e.star_args || e.star_kwargs) {
          throw Fault(FaultKind::syntax,
                      "positional argument after a keyword argument",
                      peek().line);
        }
        e.children.push_back(parse_expression(true));
      }
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr node) {
    auto e = make(ExprKind::call, node->line);
    e->children.push_back(std::move(node));
    parse_args(*e);
    return done(std::move(e));
  }

  std::string dotted_name() {
    std::string name = expect_name();
    while (is_op(".") && peek(1).type == TokenType::name) {
      next();
      name += "." + next().value;
    }
    return name;
  }

  // `| name(args) | ...`; `node` is null and `start_inline` true (no first
  // pipe) for a {% filter %} block.
  ExprPtr parse_filter(ExprPtr node, bool start_inline) {
    while (start_inline || skip_op("|")) {
      start_inline = false;
      auto e = make(ExprKind::filter, peek().line);
      e->name = dotted_name();
      if (!is_known_filter(e->name)) {
        throw Fault(FaultKind::unsupported,
                    "no filter named '" + e->name + "'",
                    e->line);
      }
      e->children.push_back(std::move(node));
      if (is_op("(")) {
        parse_args(*e);
      }
      node = done(std::move(e));
    }
    return node;
  }

  ExprPtr parse_test(ExprPtr node) {
    auto e = make(ExprKind::test, next().line);
    e->negated = skip_name("not");
    e->name = dotted_name();
    if (!is_known_test(e->name)) {
      throw Fault(
          FaultKind::unsupported, "no test named '" + e->name + "'", e->line);
    }
    e->children.push_back(std::move(node));
    const Token& tok = peek();
    if (is_op("(")) {
      parse_args(*e);
    } else if ((tok.type == TokenType::name && tok.value != "else" &&
                tok.value != "or" && tok.value != "and") ||
               tok.type == TokenType::string ||
               tok.type == TokenType::integer ||
               tok.type == TokenType::floating || is_op("[") || is_op("{")) {
      e->children.push_back(parse_postfix(parse_primary()));
    }
    return done(std::move(e));
  }

  const std::vector<Token>& t_;
  std::size_t i_ = 0;
  int nesting_ = 0;
};

} // namespace

std::vector<StmtPtr> parse(const std::vector<Token>& tokens) {
  return Parser(tokens).run();
}

} // namespace mlxt::tokenizer::jinja
