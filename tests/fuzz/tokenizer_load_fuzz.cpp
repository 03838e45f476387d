// libFuzzer target: arbitrary bytes as tokenizer.json. Loading must either
// succeed or throw mlxt::Error; any other exception, crash or sanitizer
// report is a finding. A loaded tokenizer must encode and decode a fixed
// text without failing. Built by tests/fuzz/CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "mlxt/core/error.h"
#include "mlxt/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto parsed = nlohmann::json::parse(data, data + size, nullptr, false);
  if (parsed.is_discarded()) {
    return 0;
  }
  try {
    auto tokenizer = mlxt::tokenizer::Tokenizer::from_json(
        parsed, nlohmann::json::object(), "fuzz/tokenizer.json");
    auto ids = tokenizer.encode("Hello wörld 123 <s> 日本 😀\n\t x", true);
    tokenizer.decode(ids, true);
    tokenizer.decode(ids, false);
  } catch (const mlxt::Error&) {
    // Rejected with a proper error: what the loader must do.
  }
  return 0;
}
