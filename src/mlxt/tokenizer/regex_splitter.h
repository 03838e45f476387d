// Regex matching the way HF `tokenizers` does it, on the same engine
// (Oniguruma), so patterns such as \p{L} and (?!\S) behave the same. This is
// the only file that includes Oniguruma.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/core/error.h"
#include "mlxt/tokenizer/split.h"

namespace mlxt::tokenizer::detail {

//! GPT-2's pre-tokenization pattern (HF ByteLevel with use_regex=true).
inline constexpr std::string_view kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

//! `literal` escaped so that it matches itself as a pattern (HF's
//! {"String": ...} patterns).
std::string escape_regex(std::string_view literal);

class RegexSplitter;

//! The regex of `spec`["pattern"]: {"Regex": pattern} or {"String": literal}
//! (HF's Split/Replace patterns). `key` is the JSON path of `spec`.
RegexSplitter parse_pattern(const nlohmann::json& spec,
                            const std::string& file,
                            const std::string& key);

class RegexSplitter {
public:
  //! Compiles `pattern` (Oniguruma, UTF-8, Ruby syntax as HF uses); a
  //! pattern that does not compile throws Error(invalid_model) with `where`.
  RegexSplitter(std::string_view pattern, const ErrorContext& where);

  //! `text` (valid UTF-8) cut into matches and the stretches between them,
  //! covering it in order, as HF's Pattern::find_matches on an onig regex:
  //! empty matches appear, except right after a previous match.
  std::vector<SplitRange> find_matches(std::string_view text) const;

  //! `text` cut HF "Isolated" style: every match and every stretch between
  //! matches becomes its own piece; empty pieces are dropped.
  std::vector<std::string_view> split_isolated(std::string_view text) const;

  //! `text` with every match replaced by `content` (an empty match inserts
  //! it, as HF NormalizedString::replace does).
  std::string replace_all(std::string_view text,
                          std::string_view content) const;

private:
  struct Compiled;
  std::shared_ptr<const Compiled> compiled_;
};

} // namespace mlxt::tokenizer::detail
