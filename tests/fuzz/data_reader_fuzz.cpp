// libFuzzer target: every reader (chosen by MLXT_FUZZ_EXT at build time)
// over arbitrary bytes, then each row through every format parser. Only
// mlxt::Error may escape a read; anything else (a crash, a sanitizer report,
// another exception) is a finding.
#include "fuzz_file.h"
#include "mlxt/core/error.h"
#include "mlxt/data/formats.h"
#include "mlxt/data/row_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string file = mlxt::fuzz::write_input(data, size, MLXT_FUZZ_EXT);
  try {
    mlxt::data::ReadOptions options;
    options.max_line_bytes = 1 << 16;
    auto source = mlxt::data::open_row_source(file, options);
    mlxt::data::Cursor middle;
    while (auto row = source->next()) {
      if (row->row == 2) {
        middle = source->cursor();
      }
      for (auto f : {mlxt::data::Format::alpaca,
                     mlxt::data::Format::sharegpt,
                     mlxt::data::Format::messages,
                     mlxt::data::Format::completions,
                     mlxt::data::Format::text,
                     mlxt::data::Format::preference}) {
        auto parsed = mlxt::data::parse_row(row->value, f);
        if (auto* r = std::get_if<mlxt::data::Record>(&parsed)) {
          for (auto to : {mlxt::data::Format::messages,
                          mlxt::data::Format::sharegpt,
                          mlxt::data::Format::alpaca}) {
            (void)mlxt::data::write_row(*r, to);
          }
        }
      }
    }
    source->seek(middle);
    while (source->next()) {
    }
  } catch (const mlxt::Error&) {
  }
  return 0;
}
