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
  //! Normalizes `text` (valid UTF-8) in place. Clears `at_start` when the
  //! result no longer begins with the input's first character (HF's
  //! alignments: Strip removing leading spaces moves the start), which
  //! Metaspace's "first" prepend scheme looks at.
  virtual void normalize(std::string& text, bool& at_start) const = 0;
  //! `text` normalized.
  std::string normalize(std::string text) const {
    bool at_start = true;
    normalize(text, at_start);
    return text;
  }
};

//! The normalizer `spec` describes, or nullptr for null. `file` and `key`
//! (its JSON path) name the value in errors; unknown types fail with
//! Error(unsupported).
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& spec,
                                            const std::string& file,
                                            const std::string& key);

} // namespace mlxt::tokenizer::detail
