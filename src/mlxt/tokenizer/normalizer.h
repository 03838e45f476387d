// Normalizers (tokenizer.json "normalizer"): rewrite text before added
// normalized tokens are matched and before pre-tokenization. Supported: NFC,
// NFD, NFKC, NFKD, Lowercase, StripAccents, Prepend, Replace (String or
// Regex pattern), Strip and Sequence.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace mlxt::tokenizer::detail {

class Normalizer {
public:
  virtual ~Normalizer() = default;
  //! `text` (valid UTF-8) normalized.
  virtual std::string normalize(std::string text) const = 0;
};

//! The normalizer `spec` describes, or nullptr for null. `file` and `key`
//! (its JSON path) name the value in errors; unknown types fail with
//! Error(unsupported).
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& spec,
                                            const std::string& file,
                                            const std::string& key);

} // namespace mlxt::tokenizer::detail
