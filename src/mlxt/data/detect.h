// Format detection from the first rows of a file, with the reason.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/data/record.h"

namespace mlxt::data {

struct Detection {
  Format format;
  std::string reason; // "40 of 40 sampled rows have instruction and output"
};

//! The format of `rows` (JSON objects; non-objects are ignored): each row
//! votes by its keys and the majority wins. Throws Error(invalid_data)
//! naming the keys seen when no row has a known shape; `file` names the
//! file in that message.
Detection detect_format(const std::vector<nlohmann::json>& rows,
                        const std::string& file);

} // namespace mlxt::data
