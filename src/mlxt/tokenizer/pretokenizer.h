// Pre-tokenizers (tokenizer.json "pre_tokenizer"): cut normalized text into
// the words the model encodes one at a time. Supported: ByteLevel, Split,
// Metaspace, Digits, Punctuation, Whitespace, WhitespaceSplit,
// BertPreTokenizer and Sequence, each as HF `tokenizers` defines it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::tokenizer::detail {

//! One piece of text on its way to the model.
struct Piece {
  std::string text;
  // Starts at offset 0 of the caller's text (Metaspace's "first" scheme
  // prepends only there).
  bool at_start = false;
};

class PreTokenizer {
public:
  virtual ~PreTokenizer() = default;
  //! Replaces `pieces` by the pieces this step cuts them into, in order;
  //! empty pieces are dropped.
  virtual void apply(std::vector<Piece>& pieces) const = 0;

  //! The words of `text` (valid UTF-8), for callers without a pipeline.
  std::vector<std::string> words(std::string_view text) const;
};

//! The pre-tokenizer `spec` describes, or nullptr for null. `file` and
//! `key` (its JSON path) name the value in errors; unknown types fail with
//! Error(unsupported).
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& spec,
                                                 const std::string& file,
                                                 const std::string& key);

//! GPT-2's: ByteLevel(add_prefix_space=false, use_regex=true).
std::unique_ptr<PreTokenizer> gpt2_pre_tokenizer();

} // namespace mlxt::tokenizer::detail
