#include "mlxt/data/convert.h"

#include <fstream>

#include "mlxt/core/atomic_file.h"
#include "mlxt/core/error.h"

namespace mlxt::data {

namespace fs = std::filesystem;

ConvertSummary convert_file(const fs::path& in,
                            const fs::path& out,
                            Format to,
                            const DataOptions& options) {
  RecordReader reader(in, options);
  ConvertSummary summary;
  summary.from = reader.detection().format;
  summary.to = to;
  if (out.has_parent_path()) {
    fs::create_directories(out.parent_path());
  }
  const fs::path temp = temp_path_for(out);
  {
    std::ofstream file(temp, std::ios::binary);
    if (!file) {
      fail(ErrorCode::io, "cannot write the output file", {.file = out});
    }
    try {
      while (auto r = reader.next()) {
        auto row = write_row(r->record, to);
        if (auto* why = std::get_if<std::string>(&row)) {
          fail(ErrorCode::unsupported,
               std::string("cannot convert ") + format_name(summary.from) +
                   " to " + format_name(to) +
                   " without losing meaning: " + *why,
               {.file = reader.file(), .line = r->line});
        }
        file << std::get<nlohmann::json>(row).dump() << '\n';
        ++summary.written;
      }
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
