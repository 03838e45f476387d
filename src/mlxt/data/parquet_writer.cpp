// Parquet output through Arrow C++ (from the pyarrow wheel, as the reader).
// Arrow's JSON reader turns the rows into a table, inferring one schema over
// every row, and parquet::arrow::WriteTable writes it.
#include "mlxt/data/parquet_writer.h"

#include <climits>

#include "mlxt/core/atomic_file.h"
#include "mlxt/core/error.h"

#ifdef MLXT_WITH_PARQUET
// Arrow's headers are not -Wextra clean; they are not ours to fix.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <arrow/api.h>
#include <arrow/io/file.h>
#include <arrow/io/memory.h>
#include <arrow/json/reader.h>
#include <parquet/arrow/writer.h>
#pragma GCC diagnostic pop
#endif

namespace mlxt::data::detail {

namespace fs = std::filesystem;

#ifndef MLXT_WITH_PARQUET

void write_parquet(std::string_view, const fs::path& out) {
  fail(ErrorCode::unsupported,
       "this build has no Parquet support (Apache Arrow was not found when "
       "it was configured; scripts/setup installs it into .deps/arrow)",
       {.file = out.string()});
}

#else

namespace {

template <typename T>
T check(arrow::Result<T> result, ErrorCode code, const fs::path& out) {
  if (!result.ok()) {
    fail(code,
         "cannot write the Parquet file: " + result.status().ToString(),
         {.file = out.string()});
  }
  return std::move(*result);
}

void check(const arrow::Status& status, const fs::path& out) {
  if (!status.ok()) {
    fail(ErrorCode::io,
         "cannot write the Parquet file: " + status.ToString(),
         {.file = out.string()});
  }
}

} // namespace

void write_parquet(std::string_view jsonl, const fs::path& out) {
  auto input =
      std::make_shared<arrow::io::BufferReader>(std::make_shared<arrow::Buffer>(
          reinterpret_cast<const uint8_t*>(jsonl.data()),
          static_cast<int64_t>(jsonl.size())));
  if (jsonl.size() + 1 > INT32_MAX) {
    fail(ErrorCode::unsupported,
         "Parquet output is built in memory, up to 2 GB of rows",
         {.file = out.string()});
  }
  auto read_options = arrow::json::ReadOptions::Defaults();
  read_options.use_threads = false;
  // One block: the schema is inferred over every row, not the first block's.
  read_options.block_size = static_cast<int32_t>(jsonl.size() + 1);
  auto reader = check(
      arrow::json::TableReader::Make(arrow::default_memory_pool(),
                                     input,
                                     read_options,
                                     arrow::json::ParseOptions::Defaults()),
      ErrorCode::internal,
      out);
  std::shared_ptr<arrow::Table> table =
      check(reader->Read(), ErrorCode::unsupported, out);
  const fs::path temp = temp_path_for(out);
  try {
    auto file = check(
        arrow::io::FileOutputStream::Open(temp.string()), ErrorCode::io, out);
    check(parquet::arrow::WriteTable(
              *table, arrow::default_memory_pool(), file, 64 * 1024),
          out);
    check(file->Close(), out);
  } catch (...) {
    fs::remove(temp);
    throw;
  }
  commit_temp_file(temp, out);
}

#endif

} // namespace mlxt::data::detail
