// Plain text: each non-blank line is one row {text_key: line}.
#include "mlxt/data/readers.h"

namespace mlxt::data::detail {

std::unique_ptr<RowSource> open_text(std::unique_ptr<ByteStream> stream,
                                     const ReadOptions& options) {
  return open_line_rows(
      std::move(stream),
      options,
      FileKind::text,
      [key = options.text_key](std::string_view line, SourceRow& row) {
        row.problem = utf8_problem(line);
        if (row.problem.empty()) {
          row.value = nlohmann::json::object({{key, std::string(line)}});
        }
      });
}

} // namespace mlxt::data::detail
