// Reading a dataset: the files of its splits, each streamed as Records in a
// detected (or given) format, every row validated. Row problems are values
// (file, line, row, key path, reason), counted by reason; an invalid row
// ends the read with Error(invalid_data) unless skip_invalid is set.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlxt/data/detect.h"
#include "mlxt/data/formats.h"
#include "mlxt/data/row_source.h"

namespace mlxt::data {

struct DataOptions {
  std::optional<Format> format; // detected from the first rows when unset
  ColumnMap columns;            // canonical key -> the dataset's column
  bool skip_invalid = false;    // count and report invalid rows, go on
  ReadOptions read;
  size_t detect_rows = 32; // rows sampled for detection
};

//! One problem with one row, where it is.
struct ProblemAt {
  std::string file;
  long row = 0;  // 1-based row in the file
  long line = 0; // 1-based line where the row starts (0 when unknown)
  RowProblem problem;
  //! "file:line: key: reason" (row number when there is no line).
  std::string to_string() const;
};

struct ReadSummary {
  size_t rows_read = 0;
  size_t kept = 0;
  size_t invalid = 0;
  //! Invalid rows by kind ("messages[].role: unknown role").
  std::map<std::string, size_t> invalid_by_reason;
  //! The first problems found (at most kMaxProblems), in file order.
  std::vector<ProblemAt> problems;
  static constexpr size_t kMaxProblems = 100;
};

struct LocatedRecord {
  Record record;
  long row = 0;
  long line = 0;
};

//! Streams one file's Records, validating each row.
class RecordReader {
public:
  RecordReader(const std::filesystem::path& file, const DataOptions& options);

  const Detection& detection() const { return detection_; }
  FileKind kind() const { return source_->kind(); }
  const std::string& file() const { return source_->file(); }
  //! The next valid record, or nullopt at the end. Throws Error(invalid_data)
  //! for an invalid row unless skip_invalid.
  std::optional<LocatedRecord> next();
  //! Where the next row starts (for a checkpoint) and resuming from one.
  Cursor cursor() const { return source_->cursor(); }
  void seek(const Cursor& cursor) { source_->seek(cursor); }
  const ReadSummary& summary() const { return summary_; }

private:
  void record_problem(const ProblemAt& p);

  std::unique_ptr<RowSource> source_;
  DataOptions options_;
  Detection detection_;
  ReadSummary summary_;
};

struct SplitFiles {
  std::filesystem::path train;
  std::optional<std::filesystem::path> valid;
  std::optional<std::filesystem::path> test;
  //! The files present, in the order train, valid, test.
  std::vector<std::filesystem::path> files() const;
};

//! The split files of `data`: a file is the train split; a folder holds
//! train.*, and optionally valid.* (or validation.*) and test.*, in any
//! supported file kind. Throws Error(not_found) when train is missing and
//! Error(invalid_data) when two files claim one split.
SplitFiles find_splits(const std::filesystem::path& data);

} // namespace mlxt::data
