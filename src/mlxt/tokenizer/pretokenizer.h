// Pre-tokenization: cutting text into words before BPE, as HF's
// `pre_tokenizer` section describes. Supported: ByteLevel alone, or a
// Sequence of Split(regex, Isolated) steps ending in ByteLevel.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/tokenizer/regex_splitter.h"

namespace mlxt::tokenizer::detail {

class PreTokenizer {
public:
  //! Reads tokenizer.json's "pre_tokenizer" value; `file` names the file
  //! in errors. Unsupported types fail with Error(unsupported).
  static PreTokenizer from_json(const nlohmann::json& spec,
                                const std::string& file);
  //! GPT-2's: ByteLevel(add_prefix_space=false, use_regex=true).
  static PreTokenizer gpt2();

  //! Words of `text` (valid UTF-8), each written in byte-level symbols and
  //! ready for the BPE model.
  std::vector<std::string> split(std::string_view text) const;

private:
  struct Step {
    // A regex split (Split step, or ByteLevel with use_regex).
    std::optional<RegexSplitter> splitter;
    // ByteLevel only: put a space before pieces that do not start with one.
    bool add_prefix_space = false;
  };
  // Split steps in order; ByteLevel is always the last step.
  std::vector<Step> steps_;
};

} // namespace mlxt::tokenizer::detail
