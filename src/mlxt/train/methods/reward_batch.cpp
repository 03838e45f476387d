#include "mlxt/train/methods/reward_batch.h"

#include <algorithm>

#include "mlxt/core/error.h"

namespace mlxt::train {

ScoredRows score_rows(const std::vector<const data::Example*>& rows,
                      int pad_multiple) {
  size_t longest = 1;
  for (const data::Example* e : rows) {
    if (e->tokens.empty()) {
      fail(ErrorCode::internal, "a scored row has no tokens");
    }
    longest = std::max(longest, e->tokens.size());
  }
  const int B = static_cast<int>(rows.size());
  const int m = std::max(pad_multiple, 1);
  const int T = static_cast<int>((longest + m - 1) / m) * m;
  std::vector<int32_t> tokens(size_t(B) * T, 0);
  std::vector<int32_t> last(B);
  long count = 0;
  for (int b = 0; b < B; ++b) {
    const std::vector<int32_t>& t = rows[b]->tokens;
    std::copy(t.begin(), t.end(), tokens.begin() + size_t(b) * T);
    last[b] = static_cast<int32_t>(t.size()) - 1;
    count += static_cast<long>(t.size());
  }
  return {mx::array(tokens.begin(), {B, T}, mx::int32),
          mx::array(last.begin(), {B}, mx::int32),
          count};
}

MethodBatch reward_batch(const std::vector<const data::PreferencePair*>& pairs,
                         int pad_multiple) {
  std::vector<const data::Example*> rows;
  std::vector<float> margins;
  for (const auto* p : pairs) {
    rows.push_back(&p->chosen);
    margins.push_back(p->margin);
  }
  for (const auto* p : pairs) {
    rows.push_back(&p->rejected);
  }
  ScoredRows scored = score_rows(rows, pad_multiple);
  const int B = static_cast<int>(pairs.size());
  return {{scored.tokens,
           scored.last,
           mx::array(margins.begin(), {B}, mx::float32)},
          scored.token_count,
          2L * B};
}

} // namespace mlxt::train
