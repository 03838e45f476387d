// libFuzzer target: parses the input as a Jinja template and renders it
// with a chat-like context under small limits. Any mlxt::Error is a clean
// rejection; a crash, sanitizer report, other exception or hang is a
// finding. Built by tests/fuzz/CMakeLists.txt with clang (no MLX needed).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mlxt/core/error.h"
#include "mlxt/tokenizer/jinja/template.h"

namespace {

const nlohmann::ordered_json& context() {
  static const nlohmann::ordered_json c = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Hi \u00e9 \ud83d\ude00"},
      {"role": "assistant", "content": "",
       "tool_calls": [{"type": "function", "function":
         {"name": "f", "arguments": {"x": 1, "y": [1.5, null, true]}}}]},
      {"role": "tool", "content": "42", "tool_call_id": "c1"}],
    "tools": [{"type": "function", "function": {"name": "f",
      "parameters": {"type": "object", "properties": {"x": {"type": "int"}}}}}],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"})");
  return c;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  mlxt::tokenizer::jinja::Limits limits;
  limits.max_steps = 200'000;
  limits.max_output = 1 << 20;
  limits.max_items = 100'000;
  try {
    auto tpl = mlxt::tokenizer::jinja::Template::parse(source);
    tpl.render(context(), limits);
  } catch (const mlxt::Error&) {
  }
  return 0;
}
