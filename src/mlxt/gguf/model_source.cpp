#include "mlxt/gguf/model_source.h"

#include "mlxt/gguf/import.h"

namespace mlxt::gguf {

ModelWithTokenizer open_model(const std::filesystem::path& path) {
  if (!is_gguf_path(path)) {
    return {models::load_model(path), tokenizer::Tokenizer::load(path)};
  }
  ImportedModel m = import_gguf(path);
  return {std::move(m.model),
          tokenizer::Tokenizer::from_json(m.tokenizer.tokenizer,
                                          m.tokenizer.tokenizer_config,
                                          path.string())};
}

} // namespace mlxt::gguf
