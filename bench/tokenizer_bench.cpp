// tokenizer_bench MODEL_DIR TEXTS_JSON THREADS REPEATS OUT_JSON
//
// Encodes every text of TEXTS_JSON (a JSON array of strings) with mlxt's
// tokenizer, one after another on one thread, then with encode_batch over
// THREADS threads; each REPEATS times. Writes {"load_s", "single_s",
// "batch_s" (best of the repeats), "tokens", "ids_checksum"} to OUT_JSON.
// Driven by bench/tokenizer_vs_hf.py.
#include <chrono>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "mlxt/core/error.h"
#include "mlxt/tokenizer/tokenizer.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: tokenizer_bench MODEL_DIR TEXTS_JSON THREADS "
                 "REPEATS OUT_JSON\n";
    return 2;
  }
  try {
    std::ifstream in(argv[2]);
    auto texts = nlohmann::json::parse(in).get<std::vector<std::string>>();
    int threads = std::stoi(argv[3]);
    int repeats = std::stoi(argv[4]);
    auto start = std::chrono::steady_clock::now();
    auto tokenizer = mlxt::tokenizer::Tokenizer::load(argv[1]);
    double load_s = seconds_since(start);

    double single_s = 1e30, batch_s = 1e30;
    std::size_t tokens = 0;
    std::uint64_t checksum = 0;
    for (int r = 0; r < repeats; ++r) {
      start = std::chrono::steady_clock::now();
      tokens = 0;
      checksum = 0;
      for (const auto& text : texts) {
        for (int id : tokenizer.encode(text, false)) {
          checksum = checksum * 31 + static_cast<std::uint64_t>(id);
          ++tokens;
        }
      }
      single_s = std::min(single_s, seconds_since(start));
      start = std::chrono::steady_clock::now();
      auto batch = tokenizer.encode_batch(texts, false, threads);
      batch_s = std::min(batch_s, seconds_since(start));
    }
    std::ofstream(argv[5]) << nlohmann::json{
        {"load_s", load_s},
        {"single_s", single_s},
        {"batch_s", batch_s},
        {"tokens", tokens},
        {"ids_checksum",
         checksum}}.dump();
  } catch (const mlxt::Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
