// Conversion of a dataset file to another format, written as JSON Lines,
// or as Parquet when the output's name ends in ".parquet". Meaning is kept or
// the conversion is refused: the first row that the target format cannot hold
// ends it with Error(unsupported) naming the row and what would be lost;
// nothing is left behind at `out` then.
#pragma once

#include <filesystem>

#include "mlxt/data/dataset.h"

namespace mlxt::data {

struct ConvertSummary {
  Format from = Format::messages;
  Format to = Format::messages;
  ReadSummary read;
  size_t written = 0;
};

//! Reads `in` (any supported kind; format detected or options.format) and
//! writes every valid row to `out` as `to` (nullopt: the source's format),
//! atomically.
ConvertSummary convert_file(const std::filesystem::path& in,
                            const std::filesystem::path& out,
                            std::optional<Format> to,
                            const DataOptions& options = {});

} // namespace mlxt::data
