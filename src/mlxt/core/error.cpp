#include "mlxt/core/error.h"

namespace mlxt {

const char* error_code_name(ErrorCode code) {
  switch (code) {
  case ErrorCode::invalid_config:
    return "invalid_config";
  case ErrorCode::invalid_data:
    return "invalid_data";
  case ErrorCode::invalid_model:
    return "invalid_model";
  case ErrorCode::not_found:
    return "not_found";
  case ErrorCode::unsupported:
    return "unsupported";
  case ErrorCode::conflict:
    return "conflict";
  case ErrorCode::io:
    return "io";
  case ErrorCode::invalid_checkpoint:
    return "invalid_checkpoint";
  case ErrorCode::nonfinite:
    return "nonfinite";
  case ErrorCode::internal:
    return "internal";
  }
  return "internal";
}

namespace {

// "file:line: key: message" with the parts that are present.
std::string format_error(const std::string& message, const ErrorContext& c) {
  std::string out;
  if (!c.file.empty()) {
    out += c.file;
    if (c.line > 0) {
      out += ":" + std::to_string(c.line);
    }
    out += ": ";
  }
  // A message that starts with its key already ("repo: ...") keeps one.
  if (!c.key.empty() && !message.starts_with(c.key + ": ")) {
    out += c.key + ": ";
  }
  return out + message;
}

} // namespace

Error::Error(ErrorCode code, const std::string& message, ErrorContext context)
    : std::runtime_error(format_error(message, context)), code_(code),
      context_(std::move(context)), message_(message) {}

void fail(ErrorCode code, const std::string& message, ErrorContext context) {
  throw Error(code, message, std::move(context));
}

} // namespace mlxt
