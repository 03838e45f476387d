// The names every template sees, as in Hugging Face's chat-template
// environment: range (with the sandbox's size limit), namespace, dict,
// raise_exception and strftime_now.
#pragma once

#include "mlxt/tokenizer/jinja/budget.h"
#include "mlxt/tokenizer/jinja/value.h"

namespace mlxt::tokenizer::jinja {

//! A dict of the global callables; `budget` must outlive the render.
Value make_globals(Budget& budget);

} // namespace mlxt::tokenizer::jinja
