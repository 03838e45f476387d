// The concrete readers behind open_row_source (one .cpp each), and the row
// checks they share. Internal to data/.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mlxt/data/byte_stream.h"
#include "mlxt/data/row_source.h"

namespace mlxt::data::detail {

std::unique_ptr<RowSource> open_jsonl(std::unique_ptr<ByteStream> stream,
                                      const ReadOptions& options);
std::unique_ptr<RowSource> open_json_array(std::unique_ptr<ByteStream> stream,
                                           const ReadOptions& options);
std::unique_ptr<RowSource> open_csv(std::unique_ptr<ByteStream> stream,
                                    const ReadOptions& options);
std::unique_ptr<RowSource> open_text(std::unique_ptr<ByteStream> stream,
                                     const ReadOptions& options);
std::unique_ptr<RowSource> open_parquet(const std::string& file);

//! Parses one JSON object into `row`; on failure sets row.problem ("invalid
//! JSON ...", "ill-formed UTF-8 at byte N", "expected a JSON object").
void parse_json_row(std::string_view text, SourceRow& row);

//! "ill-formed UTF-8 at byte N of the line" or "" when `text` is valid.
std::string utf8_problem(std::string_view text);

} // namespace mlxt::data::detail
