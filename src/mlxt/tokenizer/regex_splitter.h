// Splitting text with a regex the way HF `tokenizers` does, on the same
// engine (Oniguruma), so patterns such as \p{L} and (?!\S) behave the same.
// This is the only file that includes Oniguruma.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlxt/core/error.h"

namespace mlxt::tokenizer::detail {

//! GPT-2's pre-tokenization pattern (HF ByteLevel with use_regex=true).
inline constexpr std::string_view kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class RegexSplitter {
public:
  //! Compiles `pattern` (Oniguruma, UTF-8, Ruby syntax as HF uses); a
  //! pattern that does not compile throws Error(invalid_model) with `where`.
  RegexSplitter(std::string_view pattern, const ErrorContext& where);

  //! `text` cut HF "Isolated" style: every match and every stretch between
  //! matches becomes its own piece, in order; empty pieces are dropped.
  //! `text` must be valid UTF-8.
  std::vector<std::string_view> split_isolated(std::string_view text) const;

private:
  struct Compiled;
  std::shared_ptr<const Compiled> compiled_;
};

} // namespace mlxt::tokenizer::detail
