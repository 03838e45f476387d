// Where online RL (GRPO, later PPO) gets a completion's reward: one
// RewardSource interface, with the built-in verifiable rules over a prompt
// row's `answer` behind it (a reward model folder, method: reward, is the
// other source, to be wired in behind the same interface).
//
// Rules (the completion's text is its decoded ids without the stop id and
// special tokens, spaces trimmed at both ends; the answer is trimmed too):
//   exact_match  1 if the text equals the answer, else 0
//   contains     1 if the answer occurs in the text, else 0
//   regex        1 if the whole text matches the answer read as an
//                ECMAScript regular expression (std::regex_match), else 0
//   length       max(0, 1 - |bytes(text) - n| / n), the answer a positive
//                integer n: the target length in UTF-8 bytes
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mlxt/config/choices.h"
#include "mlxt/data/prompt_data.h"

namespace mlxt::train {

//! One sampled completion of a prompt row.
struct ScoredCompletion {
  const data::PromptRow* prompt = nullptr;
  std::vector<int> tokens; // the new ids, stop id included when hit
  std::string text;        // decoded, stop id and special tokens left out
};

class RewardSource {
public:
  virtual ~RewardSource() = default;
  //! One reward per completion, in order.
  virtual std::vector<double>
  score(const std::vector<ScoredCompletion>& completions) = 0;
};

//! The built-in rule `rule` (see above).
std::unique_ptr<RewardSource> make_rule_reward(config::RewardRule rule);

//! Checks before training that every row of `split` has an answer the rule
//! can use (present; a pattern that compiles for regex; a positive integer
//! for length). Throws Error(invalid_data) naming the file, line and
//! `answer`.
void check_answers(const data::PromptSplit& split, config::RewardRule rule);

} // namespace mlxt::train
