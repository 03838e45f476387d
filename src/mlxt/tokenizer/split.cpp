#include "mlxt/tokenizer/split.h"

#include <algorithm>

#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer::detail {

bool parse_split_behavior(const std::string& name, SplitBehavior& out) {
  static const std::pair<const char*, SplitBehavior> kNames[] = {
      {"Removed", SplitBehavior::removed},
      {"Isolated", SplitBehavior::isolated},
      {"MergedWithPrevious", SplitBehavior::merged_with_previous},
      {"MergedWithNext", SplitBehavior::merged_with_next},
      {"Contiguous", SplitBehavior::contiguous}};
  for (const auto& [text, behavior] : kNames) {
    if (name == text) {
      out = behavior;
      return true;
    }
  }
  return false;
}

std::vector<SplitRange>
char_matches(std::string_view text, const std::function<bool(char32_t)>& pred) {
  std::vector<SplitRange> ranges;
  std::size_t last = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t length =
        std::max<std::size_t>(utf8_sequence_length(text, pos), 1);
    if (pred(utf8_decode(text, pos, length))) {
      if (last < pos) {
        ranges.push_back({last, pos, false});
      }
      ranges.push_back({pos, pos + length, true});
      last = pos + length;
    }
    pos += length;
  }
  if (last < text.size()) {
    ranges.push_back({last, text.size(), false});
  }
  return ranges;
}

// Mirrors HF NormalizedString::split: every range becomes a piece except
// where the behavior folds a match into a neighbour or removes it.
std::vector<std::pair<std::size_t, std::size_t>> apply_split_behavior(
    std::vector<SplitRange> ranges, SplitBehavior behavior, bool invert) {
  if (invert) {
    for (auto& range : ranges) {
      range.is_match = !range.is_match;
    }
  }
  struct Kept {
    std::size_t begin, end;
    bool remove;
  };
  std::vector<Kept> kept;
  bool previous_match = false;
  switch (behavior) {
  case SplitBehavior::removed:
  case SplitBehavior::isolated:
    for (const auto& r : ranges) {
      kept.push_back(
          {r.begin, r.end, behavior == SplitBehavior::removed && r.is_match});
    }
    break;
  case SplitBehavior::merged_with_previous:
    for (const auto& r : ranges) {
      if (r.is_match && !previous_match && !kept.empty()) {
        kept.back().end = r.end;
      } else {
        kept.push_back({r.begin, r.end, false});
      }
      previous_match = r.is_match;
    }
    break;
  case SplitBehavior::merged_with_next:
    for (auto it = ranges.rbegin(); it != ranges.rend(); ++it) {
      if (it->is_match && !previous_match && !kept.empty()) {
        kept.back().begin = it->begin;
      } else {
        kept.push_back({it->begin, it->end, false});
      }
      previous_match = it->is_match;
    }
    std::reverse(kept.begin(), kept.end());
    break;
  case SplitBehavior::contiguous:
    for (const auto& r : ranges) {
      if (r.is_match == previous_match && !kept.empty()) {
        kept.back().end = r.end;
      } else {
        kept.push_back({r.begin, r.end, false});
      }
      previous_match = r.is_match;
    }
    break;
  }
  std::vector<std::pair<std::size_t, std::size_t>> pieces;
  for (const auto& k : kept) {
    if (!k.remove && k.begin < k.end) {
      pieces.emplace_back(k.begin, k.end);
    }
  }
  return pieces;
}

} // namespace mlxt::tokenizer::detail
