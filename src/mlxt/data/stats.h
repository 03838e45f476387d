// Token statistics of an encoded split: counts and the length distribution
// (what `mlxt data stats` prints and POST /v1/datasets/stats returns; the
// auto-configuration sizes sequences from the p95 length).
#pragma once

#include <cstddef>
#include <vector>

#include "mlxt/data/example.h"

namespace mlxt::data {

struct LengthStats {
  size_t examples = 0;
  size_t tokens = 0;        // over every example
  size_t target_tokens = 0; // tokens with loss_mask 1
  // Tokens per example (0 when there are no examples).
  size_t min = 0;
  size_t median = 0;
  size_t p95 = 0;
  size_t max = 0;
};

//! Counts and the length distribution of `examples` (nearest-rank
//! percentiles).
LengthStats length_stats(const std::vector<Example>& examples);

} // namespace mlxt::data
