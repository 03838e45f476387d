// Example: one encoded training sequence.
#pragma once

#include <cstdint>
#include <vector>

namespace mlxt::data {

struct Example {
  std::vector<int32_t> tokens;    // (L,) token ids
  std::vector<uint8_t> loss_mask; // (L,) 1 where token i is a training target
                                  // (predicted from tokens[0..i-1]); [0] is 0
};

//! Counts of what encoding did to a split, for the run log.
struct EncodeSummary {
  size_t rows_read = 0;
  size_t kept = 0;
  size_t invalid = 0;            // skipped with skip_invalid (see ReadSummary)
  size_t truncated = 0;          // longer than max_seq_length, cut
  size_t dropped_no_targets = 0; // no supervised token left after cutting
};

} // namespace mlxt::data
