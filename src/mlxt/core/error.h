// mlxt::Error: the one exception type that ends an operation.
//
// It carries a machine-readable code, a message, and the context (file, line,
// key) the user needs to fix the input. The CLI prints what() on one line; the
// server maps code() to an HTTP status.
#pragma once

#include <stdexcept>
#include <string>

namespace mlxt {

enum class ErrorCode {
  invalid_config,     // a configuration key or value is wrong
  invalid_data,       // a dataset file or row is wrong
  invalid_model,      // a model folder, config.json or weight file is wrong
  not_found,          // a named file, folder or item does not exist
  unsupported,        // valid input that this version cannot handle
  conflict,           // the item's current state does not allow the operation
  io,                 // the operating system refused a read or write
  invalid_checkpoint, // a checkpoint is incomplete, damaged or does not fit
  nonfinite,          // training produced a NaN or infinite loss / gradient
  internal,           // a bug in mlx-train
};

//! The name of a code as used in messages and API bodies ("invalid_config").
const char* error_code_name(ErrorCode code);

struct ErrorContext {
  std::string file; // path of the offending file, if any
  long line = 0;    // 1-based line in that file, 0 when not applicable
  std::string key;  // config key, tensor name or JSON path, if any
};

class Error : public std::runtime_error {
public:
  Error(ErrorCode code, const std::string& message, ErrorContext context = {});

  ErrorCode code() const { return code_; }
  const ErrorContext& context() const { return context_; }
  //! The message without the file/line/key prefix.
  const std::string& message() const { return message_; }

private:
  ErrorCode code_;
  ErrorContext context_;
  std::string message_;
};

//! Throws Error(code, message, context).
[[noreturn]] void
fail(ErrorCode code, const std::string& message, ErrorContext context = {});

} // namespace mlxt
