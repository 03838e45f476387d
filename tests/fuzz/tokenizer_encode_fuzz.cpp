// libFuzzer target: arbitrary bytes as text to encode, with a byte-level
// BPE trained by `mlxt init-model`'s trainer and, when the fixtures are
// there, real SentencePiece-style (Llama 2) and NFC (GPT-NeoX) tokenizers.
// Invalid UTF-8 must be rejected with Error(invalid_data); valid text must
// encode, and the byte-level tokenizer must decode it back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "mlxt/core/error.h"
#include "mlxt/tokenizer/tokenizer.h"

namespace {

using mlxt::tokenizer::Tokenizer;

std::unique_ptr<Tokenizer> trained;
std::vector<Tokenizer> fixtures;

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mlxt::tokenizer::BpeTrainOptions options;
  options.vocab_size = 600;
  options.special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  std::vector<std::string> corpus;
  for (int i = 0; i < 300; ++i) {
    corpus.push_back("the quick brown fox " + std::to_string(i * 7919) +
                     " jumps über den Zaun, 日本語のテキスト 😀!\n");
  }
  auto [tokenizer_json, config] =
      mlxt::tokenizer::train_byte_level_bpe(corpus, options);
  trained = std::make_unique<Tokenizer>(
      Tokenizer::from_json(tokenizer_json, config, "trained/tokenizer.json"));
  const char* dir = std::getenv("MLXT_FIXTURE_TOKENIZERS");
  if (dir != nullptr) {
    for (const char* name : {"llama2-hf", "gpt-neox-20b-pythia"}) {
      auto path = std::filesystem::path(dir) / name;
      if (std::filesystem::exists(path / "tokenizer.json")) {
        fixtures.push_back(Tokenizer::load(path));
      }
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<int> ids;
  try {
    ids = trained->encode(text, false);
  } catch (const mlxt::Error& e) {
    if (e.code() != mlxt::ErrorCode::invalid_data) {
      std::abort();
    }
    return 0; // not UTF-8
  }
  if (trained->decode(ids, false) != text) {
    std::abort(); // byte-level BPE must round-trip every valid text
  }
  for (const auto& tokenizer : fixtures) {
    tokenizer.decode(tokenizer.encode(text, true), true);
  }
  return 0;
}
