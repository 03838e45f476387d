#include "mlxt/train/methods/rewards.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>

#include "mlxt/core/error.h"

namespace mlxt::train {

namespace {

std::string trimmed(const std::string& s) {
  const char* space = " \t\n\r\f\v";
  const size_t begin = s.find_first_not_of(space);
  if (begin == std::string::npos) {
    return "";
  }
  return s.substr(begin, s.find_last_not_of(space) - begin + 1);
}

// The answer of a length rule: a positive integer, or nullopt.
std::optional<long> target_length(const std::string& answer) {
  const std::string t = trimmed(answer);
  if (t.empty() ||
      !std::all_of(
          t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      t.size() > 9) {
    return std::nullopt;
  }
  const long n = std::stol(t);
  return n > 0 ? std::optional(n) : std::nullopt;
}

class RuleReward : public RewardSource {
public:
  explicit RuleReward(config::RewardRule rule) : rule_(rule) {}

  std::vector<double>
  score(const std::vector<ScoredCompletion>& completions) override {
    std::vector<double> rewards;
    for (const ScoredCompletion& c : completions) {
      rewards.push_back(one(trimmed(c.text), trimmed(*c.prompt->answer)));
    }
    return rewards;
  }

private:
  double one(const std::string& text, const std::string& answer) {
    switch (rule_) {
    case config::RewardRule::exact_match:
      return text == answer ? 1.0 : 0.0;
    case config::RewardRule::contains:
      return text.find(answer) != std::string::npos ? 1.0 : 0.0;
    case config::RewardRule::regex:
      return std::regex_match(text, pattern(answer)) ? 1.0 : 0.0;
    case config::RewardRule::length: {
      const double n = static_cast<double>(*target_length(answer));
      return std::max(0.0, 1.0 - std::abs(double(text.size()) - n) / n);
    }
    }
    return 0.0;
  }

  // Each distinct pattern compiles once.
  const std::regex& pattern(const std::string& answer) {
    auto it = patterns_.find(answer);
    if (it == patterns_.end()) {
      it = patterns_.emplace(answer, std::regex(answer)).first;
    }
    return it->second;
  }

  config::RewardRule rule_;
  std::map<std::string, std::regex> patterns_;
};

} // namespace

std::unique_ptr<RewardSource> make_rule_reward(config::RewardRule rule) {
  return std::make_unique<RuleReward>(rule);
}

void check_answers(const data::PromptSplit& split, config::RewardRule rule) {
  const std::string name = config::to_string(rule);
  for (const data::PromptRow& row : split.rows) {
    const ErrorContext at{split.source, row.line, "answer"};
    if (!row.answer) {
      fail(ErrorCode::invalid_data,
           "reward: " + name +
               " scores completions against the row's "
               "answer; this row has none",
           at);
    }
    if (rule == config::RewardRule::regex) {
      try {
        std::regex check(trimmed(*row.answer));
      } catch (const std::regex_error& e) {
        fail(ErrorCode::invalid_data,
             "reward: regex: the answer is not an ECMAScript regular "
             "expression (" +
                 std::string(e.what()) + ")",
             at);
      }
    }
    if (rule == config::RewardRule::length && !target_length(*row.answer)) {
      fail(ErrorCode::invalid_data,
           "reward: length: the answer must be the target length in bytes, "
           "a positive integer; got \"" +
               *row.answer + "\"",
           at);
    }
  }
}

} // namespace mlxt::train
