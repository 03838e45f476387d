// "Did you mean": the known name nearest to a misspelt one, for error
// messages about config keys, allowed values and catalogue names.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mlxt {

//! Levenshtein distance between `a` and `b`.
std::size_t edit_distance(std::string_view a, std::string_view b);

//! True when `distance` edits from `word` are close enough to be a typo: a
//! third of its length, at least 2.
bool is_close_typo(std::size_t distance, std::string_view word);

//! The candidate nearest to `value` when close enough to be a typo (a
//! shortened name such as "cosine" for "cosine_decay" counts as close),
//! else "".
std::string closest_name(std::string_view value,
                         const std::vector<std::string>& candidates);

} // namespace mlxt
