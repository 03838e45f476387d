#include "mlxt/data/convert.h"

#include <fstream>
#include <sstream>

#include "mlxt/core/atomic_file.h"
#include "mlxt/core/error.h"
#include "mlxt/data/parquet_writer.h"

namespace mlxt::data {

namespace fs = std::filesystem;

namespace {

// Free-form JSON (tool schemas, call arguments) as JSON text, as Hugging
// Face datasets store it: Arrow would merge every row's keys into one
// struct with nulls. The parsers read both forms.
void free_form_as_text(nlohmann::json& value) {
  if (value.is_array()) {
    for (auto& v : value) {
      free_form_as_text(v);
    }
    return;
  }
  if (!value.is_object()) {
    return;
  }
  for (auto& [key, v] : value.items()) {
    if ((key == "tools" || key == "arguments") && !v.is_string() &&
        !v.is_null()) {
      v = v.dump();
    } else {
      free_form_as_text(v);
    }
  }
}

// Writes the rows of `reader` as `to`, one JSON object a line, to `sink`.
void write_rows(RecordReader& reader,
                Format to,
                bool parquet,
                std::ostream& sink,
                ConvertSummary& summary) {
  while (auto r = reader.next()) {
    auto row = write_row(r->record, to);
    if (auto* why = std::get_if<std::string>(&row)) {
      fail(ErrorCode::unsupported,
           std::string("cannot convert ") + format_name(summary.from) + " to " +
               format_name(to) + " without losing meaning: " + *why,
           {.file = reader.file(), .line = r->line});
    }
    nlohmann::json& value = std::get<nlohmann::json>(row);
    if (parquet) {
      free_form_as_text(value);
    }
    sink << value.dump() << '\n';
    ++summary.written;
  }
}

} // namespace

ConvertSummary convert_file(const fs::path& in,
                            const fs::path& out,
                            std::optional<Format> to,
                            const DataOptions& options) {
  RecordReader reader(in, options);
  ConvertSummary summary;
  summary.from = reader.detection().format;
  summary.to = to.value_or(summary.from);
  if (out.has_parent_path()) {
    fs::create_directories(out.parent_path());
  }
  if (out.extension() == ".parquet") {
    // Arrow infers the columns from every row, so the rows go to it whole.
    std::ostringstream rows;
    write_rows(reader, summary.to, true, rows, summary);
    detail::write_parquet(rows.str(), out);
    summary.read = reader.summary();
    return summary;
  }
  const fs::path temp = temp_path_for(out);
  {
    std::ofstream file(temp, std::ios::binary);
    if (!file) {
      fail(ErrorCode::io, "cannot write the output file", {.file = out});
    }
    try {
      write_rows(reader, summary.to, false, file, summary);
      file.close();
      if (!file) {
        fail(ErrorCode::io, "cannot write the output file", {.file = out});
      }
    } catch (...) {
      fs::remove(temp);
      throw;
    }
  }
  commit_temp_file(temp, out);
  summary.read = reader.summary();
  return summary;
}

} // namespace mlxt::data
