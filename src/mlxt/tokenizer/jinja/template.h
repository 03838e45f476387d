// A parsed Jinja template: the engine's public face. Renders the way
// Hugging Face's chat-template environment does (jinja2's
// ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, loop
// controls, HF's tojson, raise_exception and strftime_now), byte for byte.
// Every problem is one mlxt::Error naming the template's file, key and line.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/tokenizer/jinja/budget.h"

namespace mlxt::tokenizer::jinja {

struct Stmt;

//! Where a template came from, for error messages: a file and, when the
//! template is a value inside it, the JSON key ("chat_template").
struct TemplateOrigin {
  std::string file;
  std::string key;
};

class Template {
public:
  //! Parses `source`. Throws Error(invalid_model) for a syntax error and
  //! Error(unsupported) for Jinja this engine does not implement (an
  //! unknown filter or test, {% include %}, ...), naming the line.
  static Template parse(std::string_view source, TemplateOrigin origin = {});

  //! Renders with the members of `variables` (a JSON object) in scope.
  //! Throws Error(invalid_data) when rendering fails as it would in jinja2
  //! (raise_exception, undefined or type errors) and Error(invalid_model)
  //! when `limits` are exceeded.
  std::string render(const nlohmann::ordered_json& variables,
                     const Limits& limits = {}) const;

  const TemplateOrigin& origin() const { return origin_; }

private:
  Template(std::shared_ptr<const std::vector<std::unique_ptr<Stmt>>> body,
           TemplateOrigin origin);
  std::shared_ptr<const std::vector<std::unique_ptr<Stmt>>> body_;
  TemplateOrigin origin_;
};

} // namespace mlxt::tokenizer::jinja
