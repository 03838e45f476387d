// JSON Lines: one JSON object per line; blank lines are skipped.
#include <nlohmann/json.hpp>

#include "mlxt/data/readers.h"
#include "mlxt/tokenizer/utf8.h"

namespace mlxt::data::detail {

std::string utf8_problem(std::string_view text) {
  auto bad = tokenizer::detail::find_invalid_utf8(text);
  if (!bad) {
    return "";
  }
  return "ill-formed UTF-8 at byte " + std::to_string(*bad + 1) +
         " of the row; re-encode the file as UTF-8";
}

void parse_json_row(std::string_view text, SourceRow& row) {
  row.problem = utf8_problem(text);
  if (!row.problem.empty()) {
    return;
  }
  try {
    row.value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    row.problem = std::string("invalid JSON: ") + e.what();
    row.value = nullptr;
    return;
  }
  if (!row.value.is_object()) {
    row.problem =
        std::string("expected a JSON object, got ") + row.value.type_name();
    row.value = nullptr;
  }
}

std::unique_ptr<RowSource> open_jsonl(std::unique_ptr<ByteStream> stream,
                                      const ReadOptions& options) {
  return open_line_rows(
      std::move(stream), options, FileKind::jsonl, parse_json_row);
}

} // namespace mlxt::data::detail
