// Cutting a string by a pattern's matches with HF's SplitDelimiterBehavior
// (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous), shared
// by the Split, Metaspace, Digits, Punctuation and Whitespace
// pre-tokenizers.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mlxt::tokenizer::detail {

//! One stretch of a string: [begin, end) bytes, and whether the pattern
//! matched it.
struct SplitRange {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool is_match = false;
};

enum class SplitBehavior {
  removed,
  isolated,
  merged_with_previous,
  merged_with_next,
  contiguous
};

//! The behavior named `name` ("Isolated", ...), or false when unknown.
bool parse_split_behavior(const std::string& name, SplitBehavior& out);

//! Ranges of `text` (valid UTF-8): each character for which `pred` holds is
//! a match of its own, the stretches between are non-matches.
std::vector<SplitRange> char_matches(std::string_view text,
                                     const std::function<bool(char32_t)>& pred);

//! The pieces (byte ranges, empty ones dropped) that `behavior` makes of
//! `ranges`; `invert` swaps matches and non-matches first.
std::vector<std::pair<std::size_t, std::size_t>> apply_split_behavior(
    std::vector<SplitRange> ranges, SplitBehavior behavior, bool invert);

} // namespace mlxt::tokenizer::detail
