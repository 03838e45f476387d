// Row sources: the rows of one data file as JSON values, each with where it
// came from, whatever the file format. JSON Lines, JSON arrays, CSV, plain
// text and Parquet files (line formats also gzip-compressed) each have a
// reader behind this one interface.
//
// A row whose bytes are wrong (bad JSON on one line, a ragged CSV record,
// ill-formed UTF-8) comes back with `problem` set, so the caller can count
// it and go on; damage that ends the file (an unclosed quote, a line past
// the size limit, a truncated JSON array) throws Error(invalid_data) naming
// the file and line.
//
// Line formats stream in bounded memory and resume from a Cursor by seeking;
// JSON arrays and Parquet files are read whole (their row count is the
// cursor).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace mlxt::data {

enum class FileKind { jsonl, json_array, csv, text, parquet };

//! "jsonl", "json", "csv", "text", "parquet".
const char* file_kind_name(FileKind kind);

//! Where the next row starts: what a checkpoint stores to resume a stream.
struct Cursor {
  uint64_t offset = 0; // byte offset (uncompressed) of the next row
  long row = 0;        // rows already returned
  long line = 0;       // lines already consumed
};

struct SourceRow {
  nlohmann::json value; // an object (null when `problem` is set)
  long row = 0;         // 1-based row number in the file
  long line = 0;        // 1-based line where the row starts; 0 if none
  std::string problem;  // why the bytes of this row could not be read
};

struct ReadOptions {
  size_t max_line_bytes = size_t(64) << 20; // longer lines end the read
  //! Text files: the key each line is stored under.
  std::string text_key = "text";
};

class RowSource {
public:
  virtual ~RowSource() = default;
  //! The next row, or nullopt at the end of the file.
  virtual std::optional<SourceRow> next() = 0;
  //! Position of the next row.
  virtual Cursor cursor() const = 0;
  //! Continues from a cursor this source (or one over the same file) gave.
  virtual void seek(const Cursor& cursor) = 0;
  virtual FileKind kind() const = 0;
  const std::string& file() const { return file_; }

protected:
  explicit RowSource(std::string file) : file_(std::move(file)) {}
  std::string file_;
};

//! The reader for `file`, chosen by extension (".gz" looked through) and,
//! for ".json", by its first byte ('[' array, '{' JSON Lines). Throws
//! Error(unsupported) for other extensions, naming the ones supported.
std::unique_ptr<RowSource> open_row_source(const std::filesystem::path& file,
                                           const ReadOptions& options = {});

//! The kind open_row_source would pick.
FileKind file_kind(const std::filesystem::path& file);

} // namespace mlxt::data
