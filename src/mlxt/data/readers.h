// The concrete readers behind open_row_source (one .cpp each), the row
// checks they share, and the one line-by-line source under JSON Lines and
// text. Internal to data/.
#pragma once

#include <functional>
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

//! Fills `row.value` (or `row.problem`) from one non-blank line.
using LineParser = std::function<void(std::string_view line, SourceRow& row)>;

//! One row per non-blank line of `stream`, made by `parse`; resumes by
//! byte offset (line_reader.cpp). JSON Lines and text differ only in
//! `parse`.
std::unique_ptr<RowSource> open_line_rows(std::unique_ptr<ByteStream> stream,
                                          const ReadOptions& options,
                                          FileKind kind,
                                          LineParser parse);

//! Parses one JSON object into `row`; on failure sets row.problem ("invalid
//! JSON ...", "ill-formed UTF-8 at byte N", "expected a JSON object").
void parse_json_row(std::string_view text, SourceRow& row);

//! "ill-formed UTF-8 at byte N of the line" or "" when `text` is valid.
std::string utf8_problem(std::string_view text);

} // namespace mlxt::data::detail
