// Decoders (tokenizer.json "decoder"): turn the token strings of some ids
// back into text. Supported: ByteLevel, Metaspace, ByteFallback, Fuse,
// Strip, Replace and Sequence, each as HF `tokenizers` defines it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::tokenizer::detail {

class Decoder {
public:
  virtual ~Decoder() = default;
  //! Rewrites `tokens` in place (HF's decode_chain); the text is their
  //! concatenation once every decoder has run.
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

//! The decoder `spec` describes, or nullptr for null. `file` and `key` (its
//! JSON path) name the value in errors; unknown types fail with
//! Error(unsupported).
std::unique_ptr<Decoder> make_decoder(const nlohmann::json& spec,
                                      const std::string& file,
                                      const std::string& key);

} // namespace mlxt::tokenizer::detail
