// Reading JSON files with errors that name the file and line.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "mlxt/core/error.h"

namespace mlxt {

//! Parses `file`. A file that cannot be opened is Error(not_found); malformed
//! JSON is Error(`malformed`) naming the file and the line of the fault.
nlohmann::json read_json_file(const std::filesystem::path& file,
                              ErrorCode malformed = ErrorCode::invalid_model);

} // namespace mlxt
