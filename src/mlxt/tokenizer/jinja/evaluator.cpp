#include "mlxt/tokenizer/jinja/evaluator.h"

#include <memory>

#include "mlxt/tokenizer/jinja/filters.h"
#include "mlxt/tokenizer/jinja/globals.h"
#include "mlxt/tokenizer/jinja/operators.h"
#include "mlxt/tokenizer/jinja/tests.h"

namespace mlxt::tokenizer::jinja {

namespace {

struct Frame {
  std::shared_ptr<Frame> parent;
  Dict vars;
};
using FramePtr = std::shared_ptr<Frame>;

enum class Flow { normal, break_, continue_ };

// Macro calls in progress; jinja2 stops runaway recursion with Python's
// recursion limit.
constexpr int kMaxCallDepth = 100;

class Evaluator {
public:
  Evaluator(Budget& budget, FramePtr root) : budget_(budget), frame_(root) {}

  Flow exec_body(const std::vector<StmtPtr>& body, std::string& out) {
    for (const StmtPtr& s : body) {
      Flow flow = exec(*s, out);
      if (flow != Flow::normal) {
        return flow;
      }
    }
    return Flow::normal;
  }

private:
  // Keeps the line of the innermost node for the error message.
  template <class F>
  auto at(long line, F&& f) {
    try {
      return f();
    } catch (Fault& e) {
      if (e.line == 0) {
        e.line = line;
      }
      throw;
    }
  }

  void append(std::string& out, const std::string& text) {
    budget_.check_size(out.size() + text.size());
    out += text;
  }

  Value lookup(const std::string& name) const {
    for (Frame* f = frame_.get(); f != nullptr; f = f->parent.get()) {
      if (const Value* v = f->vars.find(name)) {
        return *v;
      }
    }
    return Value(Undefined{name});
  }

  Flow exec(const Stmt& s, std::string& out) {
    budget_.step();
    return at(s.line, [&] { return exec_inner(s, out); });
  }

  Flow exec_inner(const Stmt& s, std::string& out) {
    switch (s.kind) {
    case StmtKind::text:
      append(out, s.text);
      return Flow::normal;
    case StmtKind::output:
      append(out, eval(*s.expr).str());
      return Flow::normal;
    case StmtKind::if_:
      return exec_body(eval(*s.expr).truthy() ? s.body : s.else_body, out);
    case StmtKind::for_:
      exec_for(s, out);
      return Flow::normal;
    case StmtKind::set:
      exec_set(s, eval(*s.expr));
      return Flow::normal;
    case StmtKind::set_block: {
      std::string text;
      exec_body(s.body, text);
      Value value(std::move(text));
      if (s.expr) {
        value = apply_filter_chain(*s.expr, value);
      }
      exec_set(s, value);
      return Flow::normal;
    }
    case StmtKind::macro:
      frame_->vars.set(s.name, make_macro(s, frame_));
      return Flow::normal;
    case StmtKind::call_block: {
      Value caller = make_macro(s, frame_);
      const Expr& call = *s.expr;
      CallArgs args = eval_args(call);
      args.keyword.emplace_back("caller", caller);
      append(out, call_value(eval(*call.children[0]), args).str());
      return Flow::normal;
    }
    case StmtKind::filter_block: {
      std::string text;
      exec_body(s.body, text);
      append(out, apply_filter_chain(*s.expr, Value(std::move(text))).str());
      return Flow::normal;
    }
    case StmtKind::break_:
      return Flow::break_;
    case StmtKind::continue_:
      return Flow::continue_;
    }
    return Flow::normal;
  }

  // A `{% filter %}` or `{% set x | f %}` chain whose innermost operand is
  // null: apply it to `value`.
  Value apply_filter_chain(const Expr& e, const Value& value) {
    Value operand =
        e.children[0] ? apply_filter_chain(*e.children[0], value) : value;
    CallArgs args = eval_args(e);
    return at(e.line,
              [&] { return apply_filter(e.name, operand, args, budget_); });
  }

  void exec_set(const Stmt& s, const Value& value) {
    if (!s.attribute.empty()) {
      Value target = lookup(s.targets[0]);
      if (!target.is_dict() || !target.as_dict().is_namespace) {
        fault(FaultKind::runtime,
              "cannot assign attribute on non-namespace object '" +
                  s.targets[0] + "'");
      }
      // Namespaces are the only mutable values: refusing to nest them rules
      // out reference cycles.
      if (value.holds_namespace()) {
        fault(FaultKind::unsupported,
              "storing a namespace inside a namespace attribute");
      }
      if (s.attribute[0] == '_') {
        fault(FaultKind::runtime,
              "Chat templates cannot store underscore-prefixed attributes on "
              "a namespace, but got '" +
                  s.attribute + "'");
      }
      target.as_dict().set(s.attribute, value);
      return;
    }
    assign_targets(s.targets, value, frame_->vars);
  }

  void assign_targets(const std::vector<std::string>& targets,
                      const Value& value,
                      Dict& vars) {
    if (targets.size() == 1) {
      vars.set(targets[0], value);
      return;
    }
    std::vector<Value> items = iterate(value);
    if (items.size() != targets.size()) {
      fault(FaultKind::runtime,
            std::string(items.size() < targets.size() ? "not enough"
                                                      : "too many") +
                " values to unpack (expected " +
                std::to_string(targets.size()) + ", got " +
                std::to_string(items.size()) + ")");
    }
    for (std::size_t i = 0; i < targets.size(); ++i) {
      vars.set(targets[i], items[i]);
    }
  }

  void exec_for(const Stmt& s, std::string& out) {
    std::vector<Value> source = iterate(eval(*s.expr));
    std::vector<Value> items;
    if (s.condition) {
      // The filter sees the loop variables but not `loop`.
      for (const Value& item : source) {
        budget_.step();
        auto frame = std::make_shared<Frame>();
        frame->parent = frame_;
        assign_targets(s.targets, item, frame->vars);
        FramePtr saved = frame_;
        frame_ = frame;
        bool keep = eval(*s.condition).truthy();
        frame_ = saved;
        if (keep) {
          items.push_back(item);
        }
      }
    } else {
      items = std::move(source);
    }
    if (items.empty()) {
      exec_body(s.else_body, out);
      return;
    }
    FramePtr saved = frame_;
    std::int64_t n = static_cast<std::int64_t>(items.size());
    for (std::int64_t i = 0; i < n; ++i) {
      budget_.step();
      auto frame = std::make_shared<Frame>();
      frame->parent = saved;
      assign_targets(
          s.targets, items[static_cast<std::size_t>(i)], frame->vars);
      frame->vars.set("loop", loop_object(items, i));
      frame_ = frame;
      Flow flow;
      try {
        flow = exec_body(s.body, out);
      } catch (...) {
        frame_ = saved;
        throw;
      }
      frame_ = saved;
      if (flow == Flow::break_) {
        break;
      }
    }
  }

  static Value loop_object(const std::vector<Value>& items, std::int64_t i) {
    std::int64_t n = static_cast<std::int64_t>(items.size());
    Value loop = Value::dict();
    Dict& d = loop.as_dict();
    d.is_namespace = true; // attribute access only, like jinja2's LoopContext
    d.set("index", Value(i + 1));
    d.set("index0", Value(i));
    d.set("revindex", Value(n - i));
    d.set("revindex0", Value(n - i - 1));
    d.set("first", Value(i == 0));
    d.set("last", Value(i == n - 1));
    d.set("length", Value(n));
    d.set("depth", Value(1));
    d.set("depth0", Value(0));
    d.set("previtem",
          i > 0 ? items[static_cast<std::size_t>(i - 1)]
                : Value(Undefined{"there is no previous item"}));
    d.set("nextitem",
          i + 1 < n ? items[static_cast<std::size_t>(i + 1)]
                    : Value(Undefined{"there is no next item"}));
    d.set("cycle", Value::function("cycle", [i](CallArgs& args) {
            if (args.positional.empty()) {
              fault(FaultKind::runtime, "no items for cycling given");
            }
            return args.positional[static_cast<std::size_t>(i) %
                                   args.positional.size()];
          }));
    return loop;
  }

  // The macro holds its defining scope weakly: that scope holds the macro,
  // and a strong reference both ways would never be freed.
  Value make_macro(const Stmt& s, const FramePtr& scope) {
    const Stmt* macro = &s;
    std::weak_ptr<Frame> weak_scope = scope;
    return Value::function(
        s.kind == StmtKind::macro ? s.name : "caller",
        [this, macro, weak_scope](CallArgs& args) {
          FramePtr defined_in = weak_scope.lock();
          if (!defined_in) {
            fault(FaultKind::unsupported,
                  "calling macro '" + macro->name +
                      "' after the scope that defined it has ended");
          }
          const auto& params = macro->params;
          if (args.positional.size() > params.size()) {
            fault(FaultKind::runtime,
                  "macro '" + macro->name + "' takes not more than " +
                      std::to_string(params.size()) + " argument(s)");
          }
          if (call_depth_ >= kMaxCallDepth) {
            fault(FaultKind::budget,
                  "macro calls nested deeper than " +
                      std::to_string(kMaxCallDepth) + " levels");
          }
          auto frame = std::make_shared<Frame>();
          frame->parent = defined_in;
          FramePtr saved = frame_;
          frame_ = frame;
          ++call_depth_;
          std::string out;
          try {
            for (std::size_t i = 0; i < params.size(); ++i) {
              const auto& [name, fallback] = params[i];
              const Value* given = nullptr;
              if (i < args.positional.size()) {
                given = &args.positional[i];
              }
              for (const auto& [key, value] : args.keyword) {
                if (key == name) {
                  given = &value;
                }
              }
              frame->vars.set(name,
                              given      ? *given
                              : fallback ? eval(*fallback)
                                         : Value(Undefined{name}));
            }
            for (const auto& [key, value] : args.keyword) {
              bool known = key == "caller";
              for (const auto& p : params) {
                known = known || p.first == key;
              }
              if (!known) {
                fault(FaultKind::runtime,
                      "macro '" + macro->name +
                          "' takes no keyword argument '" + key + "'");
              }
              if (key == "caller") {
                frame->vars.set("caller", value);
              }
            }
            exec_body(macro->body, out);
          } catch (...) {
            frame_ = saved;
            --call_depth_;
            throw;
          }
          frame_ = saved;
          --call_depth_;
          return Value(std::move(out));
        });
  }

  CallArgs eval_args(const Expr& e) {
    CallArgs args;
    for (std::size_t i = 1; i < e.children.size(); ++i) {
      args.positional.push_back(eval(*e.children[i]));
    }
    for (const auto& [key, value] : e.kwargs) {
      args.keyword.emplace_back(key, eval(*value));
    }
    if (e.star_args) {
      for (Value& v : iterate(eval(*e.star_args))) {
        args.positional.push_back(std::move(v));
      }
    }
    if (e.star_kwargs) {
      Value kwargs = eval(*e.star_kwargs);
      if (!kwargs.is_dict()) {
        fault(FaultKind::runtime,
              "argument after ** must be a mapping, not " + kwargs.type_name());
      }
      for (const auto& item : kwargs.as_dict().items) {
        args.keyword.push_back(item);
      }
    }
    return args;
  }

  Value call_value(const Value& callee, CallArgs& args) {
    if (!callee.is_callable()) {
      require_defined(callee);
      fault(FaultKind::runtime,
            "'" + callee.type_name() + "' object is not callable");
    }
    return callee.as_callable().call(args);
  }

  Value eval(const Expr& e) {
    budget_.step();
    return at(e.line, [&] { return eval_inner(e); });
  }

  Value eval_inner(const Expr& e) {
    switch (e.kind) {
    case ExprKind::literal:
      return e.value;
    case ExprKind::name:
      return lookup(e.name);
    case ExprKind::list:
    case ExprKind::tuple: {
      std::vector<Value> items;
      for (const ExprPtr& c : e.children) {
        items.push_back(eval(*c));
      }
      return Value::list(std::move(items), e.kind == ExprKind::tuple);
    }
    case ExprKind::dict: {
      Value d = Value::dict();
      for (std::size_t i = 0; i + 1 < e.children.size(); i += 2) {
        Value key = eval(*e.children[i]);
        if (!key.is_string()) {
          fault(FaultKind::unsupported,
                "dict keys other than strings (got " + key.type_name() + ")");
        }
        d.as_dict().set(key.as_string(), eval(*e.children[i + 1]));
      }
      return d;
    }
    case ExprKind::attribute:
      return get_attribute(eval(*e.children[0]), e.name);
    case ExprKind::item:
      return get_item(eval(*e.children[0]), eval(*e.children[1]));
    case ExprKind::slice: {
      Value object = eval(*e.children[0]);
      Value parts[3];
      for (int i = 0; i < 3; ++i) {
        if (e.children[1 + i]) {
          parts[i] = eval(*e.children[1 + i]);
        }
      }
      return get_slice(object, parts[0], parts[1], parts[2]);
    }
    case ExprKind::call: {
      Value callee = eval(*e.children[0]);
      CallArgs args = eval_args(e);
      return call_value(callee, args);
    }
    case ExprKind::filter: {
      Value operand = eval(*e.children[0]);
      CallArgs args = eval_args(e);
      return apply_filter(e.name, operand, args, budget_);
    }
    case ExprKind::test: {
      Value operand = eval(*e.children[0]);
      CallArgs args = eval_args(e);
      return Value(apply_test(e.name, operand, args) != e.negated);
    }
    case ExprKind::unary: {
      Value v = eval(*e.children[0]);
      if (e.name == "not") {
        return Value(!v.truthy());
      }
      if (v.is_int() || v.is_bool()) {
        std::int64_t i = v.is_int() ? v.as_int() : v.as_bool();
        return Value(e.name == "-" ? -i : i);
      }
      if (v.is_float()) {
        return Value(e.name == "-" ? -v.as_double() : v.as_double());
      }
      require_defined(v);
      fault(FaultKind::runtime,
            "bad operand type for unary " + e.name + ": '" + v.type_name() +
                "'");
    }
    case ExprKind::binary: {
      Value left = eval(*e.children[0]);
      if (e.name == "and") {
        return left.truthy() ? eval(*e.children[1]) : left;
      }
      if (e.name == "or") {
        return left.truthy() ? left : eval(*e.children[1]);
      }
      return binary_op(e.name, left, eval(*e.children[1]), budget_);
    }
    case ExprKind::compare: {
      Value left = eval(*e.children[0]);
      for (std::size_t i = 0; i < e.ops.size(); ++i) {
        Value right = eval(*e.children[i + 1]);
        if (!compare_op(e.ops[i], left, right)) {
          return Value(false);
        }
        left = std::move(right);
      }
      return Value(true);
    }
    case ExprKind::concat: {
      std::string out;
      for (const ExprPtr& c : e.children) {
        append(out, eval(*c).str());
      }
      return Value(std::move(out));
    }
    case ExprKind::condition: {
      if (eval(*e.children[1]).truthy()) {
        return eval(*e.children[0]);
      }
      return e.children[2] ? eval(*e.children[2]) : Value(Undefined{});
    }
    }
    return Value(Undefined{});
  }

  Budget& budget_;
  FramePtr frame_;
  int call_depth_ = 0;
};

} // namespace

std::string evaluate(const std::vector<StmtPtr>& body,
                     const Value& variables,
                     Budget& budget) {
  auto globals = std::make_shared<Frame>();
  globals->vars = make_globals(budget).as_dict();
  auto root = std::make_shared<Frame>();
  root->parent = globals;
  root->vars = variables.as_dict();
  std::string out;
  Evaluator(budget, root).exec_body(body, out);
  return out;
}

} // namespace mlxt::tokenizer::jinja
