// libFuzzer target: format detection over the rows of arbitrary JSON Lines.
#include "fuzz_file.h"
#include "mlxt/core/error.h"
#include "mlxt/data/detect.h"
#include "mlxt/data/row_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string file = mlxt::fuzz::write_input(data, size, ".jsonl");
  try {
    mlxt::data::ReadOptions options;
    options.max_line_bytes = 1 << 16;
    auto source = mlxt::data::open_row_source(file, options);
    std::vector<nlohmann::json> rows;
    while (auto row = source->next()) {
      rows.push_back(row->value);
    }
    auto d = mlxt::data::detect_format(rows, file);
    if (d.reason.empty()) {
      __builtin_trap(); // a detection always says why
    }
  } catch (const mlxt::Error&) {
  }
  return 0;
}
