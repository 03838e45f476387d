// Writing rows as a Parquet file through Apache Arrow's C++ library (only
// parquet_writer.cpp sees Arrow's headers). Internal to data/.
#pragma once

#include <filesystem>
#include <string_view>

namespace mlxt::data::detail {

//! Writes `jsonl` (one JSON object per line) as the Parquet file `out`,
//! atomically. Column types are inferred from all rows as Arrow's JSON
//! reader infers them (strings, numbers, booleans, lists, structs); the
//! table is built in memory. Error(unsupported) when this build has no
//! Parquet support, Error(io) when the file cannot be written.
void write_parquet(std::string_view jsonl, const std::filesystem::path& out);

} // namespace mlxt::data::detail
