// Parquet files through Apache Arrow's C++ library (from the pyarrow wheel;
// see scripts/setup). Each row becomes an object of its columns: strings,
// numbers, booleans, nulls, lists and structs map to the JSON values they
// name. The file is read one row group at a time.
#include "mlxt/core/error.h"
#include "mlxt/data/readers.h"

#ifdef MLXT_WITH_PARQUET
// Arrow's headers are not -Wextra clean; they are not ours to fix.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <arrow/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/reader.h>
#pragma GCC diagnostic pop
#endif

namespace mlxt::data::detail {

#ifndef MLXT_WITH_PARQUET

std::unique_ptr<RowSource> open_parquet(const std::string& file) {
  fail(ErrorCode::unsupported,
       "this build has no Parquet support (Apache Arrow was not found when "
       "it was configured; scripts/setup installs it into .deps/arrow)",
       {.file = file});
}

#else

namespace {

using nlohmann::json;

[[noreturn]] void arrow_fail(const std::string& file,
                             const arrow::Status& status) {
  fail(ErrorCode::invalid_data,
       "cannot read the Parquet file: " + status.ToString(),
       {.file = file});
}

json cell(const arrow::Array& array, int64_t i);

json scalar_cell(const arrow::Array& array, int64_t i) {
  switch (array.type_id()) {
  case arrow::Type::STRING:
    return static_cast<const arrow::StringArray&>(array).GetString(i);
  case arrow::Type::LARGE_STRING:
    return static_cast<const arrow::LargeStringArray&>(array).GetString(i);
  case arrow::Type::STRING_VIEW:
    return std::string(
        static_cast<const arrow::StringViewArray&>(array).GetView(i));
  case arrow::Type::BOOL:
    return static_cast<const arrow::BooleanArray&>(array).Value(i);
  case arrow::Type::INT8:
    return static_cast<const arrow::Int8Array&>(array).Value(i);
  case arrow::Type::INT16:
    return static_cast<const arrow::Int16Array&>(array).Value(i);
  case arrow::Type::INT32:
    return static_cast<const arrow::Int32Array&>(array).Value(i);
  case arrow::Type::INT64:
    return static_cast<const arrow::Int64Array&>(array).Value(i);
  case arrow::Type::UINT8:
    return static_cast<const arrow::UInt8Array&>(array).Value(i);
  case arrow::Type::UINT16:
    return static_cast<const arrow::UInt16Array&>(array).Value(i);
  case arrow::Type::UINT32:
    return static_cast<const arrow::UInt32Array&>(array).Value(i);
  case arrow::Type::UINT64:
    return static_cast<const arrow::UInt64Array&>(array).Value(i);
  case arrow::Type::FLOAT:
    return static_cast<const arrow::FloatArray&>(array).Value(i);
  case arrow::Type::DOUBLE:
    return static_cast<const arrow::DoubleArray&>(array).Value(i);
  default:
    // Other types (dates, decimals, binary) as Arrow prints them.
    auto scalar = array.GetScalar(i);
    return scalar.ok() ? json((*scalar)->ToString()) : json(nullptr);
  }
}

json cell(const arrow::Array& array, int64_t i) {
  if (array.IsNull(i)) {
    return nullptr;
  }
  switch (array.type_id()) {
  case arrow::Type::LIST:
  case arrow::Type::LARGE_LIST: {
    std::shared_ptr<arrow::Array> values;
    if (array.type_id() == arrow::Type::LIST) {
      values = static_cast<const arrow::ListArray&>(array).value_slice(i);
    } else {
      values = static_cast<const arrow::LargeListArray&>(array).value_slice(i);
    }
    json list = json::array();
    for (int64_t k = 0; k < values->length(); ++k) {
      list.push_back(cell(*values, k));
    }
    return list;
  }
  case arrow::Type::STRUCT: {
    const auto& s = static_cast<const arrow::StructArray&>(array);
    json object = json::object();
    for (int f = 0; f < s.num_fields(); ++f) {
      object[s.struct_type()->field(f)->name()] = cell(*s.field(f), i);
    }
    return object;
  }
  default:
    return scalar_cell(array, i);
  }
}

class ParquetSource : public RowSource {
public:
  explicit ParquetSource(const std::string& file) : RowSource(file) {
    auto input = arrow::io::ReadableFile::Open(file);
    if (!input.ok()) {
      fail(ErrorCode::not_found,
           "cannot open the Parquet file: " + input.status().ToString(),
           {.file = file});
    }
    auto reader =
        parquet::arrow::OpenFile(*input, arrow::default_memory_pool());
    if (!reader.ok()) {
      arrow_fail(file, reader.status());
    }
    reader_ = std::move(*reader);
  }

  std::optional<SourceRow> next() override {
    while (!batch_ || in_batch_ >= batch_->num_rows()) {
      if (group_ >= reader_->num_row_groups()) {
        return std::nullopt;
      }
      auto table = reader_->ReadRowGroup(group_++);
      if (!table.ok()) {
        arrow_fail(file_, table.status());
      }
      auto combined = (*table)->CombineChunksToBatch();
      if (!combined.ok()) {
        arrow_fail(file_, combined.status());
      }
      batch_ = *combined;
      in_batch_ = 0;
    }
    SourceRow row;
    row.row = ++rows_;
    row.value = json::object();
    for (int c = 0; c < batch_->num_columns(); ++c) {
      row.value[batch_->column_name(c)] = cell(*batch_->column(c), in_batch_);
    }
    ++in_batch_;
    return row;
  }

  Cursor cursor() const override { return {0, rows_, 0}; }
  void seek(const Cursor& c) override {
    // Row groups know their sizes: skip whole groups, then rows.
    group_ = 0;
    batch_.reset();
    rows_ = 0;
    const auto metadata = reader_->parquet_reader()->metadata();
    while (group_ < reader_->num_row_groups() &&
           rows_ + metadata->RowGroup(group_)->num_rows() <= c.row) {
      rows_ += metadata->RowGroup(group_++)->num_rows();
    }
    while (rows_ < c.row && next()) {
    }
  }
  FileKind kind() const override { return FileKind::parquet; }

private:
  std::unique_ptr<parquet::arrow::FileReader> reader_;
  std::shared_ptr<arrow::RecordBatch> batch_;
  int group_ = 0;
  int64_t in_batch_ = 0;
  long rows_ = 0;
};

} // namespace

std::unique_ptr<RowSource> open_parquet(const std::string& file) {
  return std::make_unique<ParquetSource>(file);
}

#endif

} // namespace mlxt::data::detail
