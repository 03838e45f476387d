// Added tokens (tokenizer.json "added_tokens"): strings such as
// "<|im_start|>" that are found in the raw text before pre-tokenization and
// map straight to their ids.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::tokenizer::detail {

struct AddedToken {
  int id = 0;
  std::string content;
  bool special = false;     // dropped by decode(skip_special_tokens=true)
  bool lstrip = false;      // swallows whitespace on its left
  bool rstrip = false;      // swallows whitespace on its right
  bool single_word = false; // only matches outside words
  bool normalized = false;  // matched after normalization (second pass)
};

class AddedTokens {
public:
  AddedTokens() = default;
  //! Reads tokenizer.json's "added_tokens" array (null or absent: none).
  static AddedTokens from_json(const nlohmann::json& list,
                               const std::string& file);

  //! One piece of the text: either an added token (id set) or plain text
  //! for the model (id empty).
  struct Segment {
    std::string_view text;
    std::optional<int> id;
  };
  //! `text` cut at added-token matches. Like HF, non-normalized tokens are
  //! matched first, then normalized ones in the remaining text; within a
  //! pass the leftmost match wins, and the longest among those.
  std::vector<Segment> split(std::string_view text) const;

  const AddedToken* find_by_id(int id) const;
  const AddedToken* find_by_content(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

private:
  // Cuts each plain segment of `segments` at matches of the tokens listed in
  // `candidates_by_first_byte`.
  std::vector<Segment> split_pass(
      const std::vector<Segment>& segments,
      const std::vector<std::vector<int>>& candidates_by_first_byte) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<int, int> index_by_id_;
  // For each pass and first byte: indexes into tokens_, longest first.
  std::vector<std::vector<int>> raw_candidates_;
  std::vector<std::vector<int>> normalized_candidates_;
};

} // namespace mlxt::tokenizer::detail
