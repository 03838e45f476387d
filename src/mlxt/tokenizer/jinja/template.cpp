#include "mlxt/tokenizer/jinja/template.h"

#include "mlxt/core/error.h"
#include "mlxt/tokenizer/jinja/evaluator.h"
#include "mlxt/tokenizer/jinja/parser.h"

namespace mlxt::tokenizer::jinja {

namespace {

[[noreturn]] void rethrow(const Fault& f, const TemplateOrigin& origin) {
  ErrorCode code = ErrorCode::invalid_data;
  std::string what;
  switch (f.kind) {
  case FaultKind::syntax:
    code = ErrorCode::invalid_model;
    what = "syntax error in the template: ";
    break;
  case FaultKind::unsupported:
    code = ErrorCode::unsupported;
    what = "unsupported Jinja: ";
    break;
  case FaultKind::runtime:
    what = "rendering the template failed: ";
    break;
  case FaultKind::raised:
    what = "the template raised an error: ";
    break;
  case FaultKind::budget:
    code = ErrorCode::invalid_model;
    what = "rendering the template stopped: ";
    break;
  }
  ErrorContext context{.file = origin.file, .line = 0, .key = origin.key};
  // A template inside a JSON value: its line is not the file's line.
  if (origin.key.empty()) {
    context.line = f.line;
  } else if (f.line > 0) {
    what = "template line " + std::to_string(f.line) + ": " + what;
  }
  fail(code, what + f.what(), std::move(context));
}

} // namespace

Template::Template(
    std::shared_ptr<const std::vector<std::unique_ptr<Stmt>>> body,
    TemplateOrigin origin)
    : body_(std::move(body)), origin_(std::move(origin)) {}

Template Template::parse(std::string_view source, TemplateOrigin origin) {
  try {
    auto body =
        std::make_shared<std::vector<StmtPtr>>(jinja::parse(tokenize(source)));
    return Template(std::move(body), std::move(origin));
  } catch (const Fault& f) {
    rethrow(f, origin);
  }
}

std::string Template::render(const nlohmann::ordered_json& variables,
                             const Limits& limits) const {
  if (!variables.is_object()) {
    fail(ErrorCode::internal, "template variables must be a JSON object");
  }
  try {
    Budget budget(limits);
    return evaluate(*body_, Value::from_json(variables), budget);
  } catch (const Fault& f) {
    rethrow(f, origin_);
  }
}

} // namespace mlxt::tokenizer::jinja
