#include "mlxt/core/json_file.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace mlxt {

nlohmann::json read_json_file(const std::filesystem::path& file,
                              ErrorCode malformed) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    fail(ErrorCode::not_found,
         "cannot open for reading",
         {.file = file.string()});
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::out_of_range& e) {
    // A number past double's range (no byte offset is reported).
    fail(malformed,
         std::string("malformed JSON: ") + e.what(),
         {.file = file.string()});
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann reports a byte offset; users look for a line.
    const auto end = text.begin() + std::min<size_t>(e.byte, text.size());
    const long line =
        1 + static_cast<long>(std::count(text.begin(), end, '\n'));
    fail(malformed,
         std::string("malformed JSON: ") + e.what(),
         {.file = file.string(), .line = line});
  }
}

} // namespace mlxt
