// Added tokens (tokenizer.json "added_tokens"): strings such as
// "<|im_start|>" that are found in the text before pre-tokenization and map
// straight to their ids, honouring special, lstrip, rstrip, single_word and
// normalized exactly as HF's AddedVocabulary does.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/tokenizer/normalizer.h"

namespace mlxt::tokenizer::detail {

struct AddedToken {
  int id = 0;
  std::string content;
  bool special = false;     // dropped by decode(skip_special_tokens=true)
  bool lstrip = false;      // swallows whitespace on its left
  bool rstrip = false;      // swallows whitespace on its right
  bool single_word = false; // only matches outside words
  bool normalized = false;  // matched after normalization (second pass)
  // What decode writes for it: HF uses the normalized content for
  // normalized tokens (Llama 2's "<s>" decodes as "▁<s>").
  std::string decoded;
};

class AddedTokens {
public:
  AddedTokens() = default;
  //! What the model's vocabulary says about a token's content.
  struct ModelVocabulary {
    std::function<std::optional<int>(std::string_view)> token_to_id;
    int size = 0; // number of entries
  };
  //! Reads tokenizer.json's "added_tokens" array (null or absent: none).
  //! Ids are assigned as HF does on load (the model's id for the content,
  //! else the next id past the vocabulary), which for well-formed files
  //! are the ids written there. Normalized tokens are matched by their
  //! content as `normalizer` (may be null) rewrites it.
  static AddedTokens from_json(const nlohmann::json& list,
                               const std::string& file,
                               const Normalizer* normalizer,
                               const ModelVocabulary& model);

  //! One piece of the text: an added token (id set) or normalized text for
  //! the pre-tokenizer (id empty).
  struct Segment {
    std::string text;
    std::optional<int> id;
    bool at_start = false; // starts at offset 0 of the caller's text
  };
  //! HF's extract_and_normalize: non-normalized tokens are cut out of the
  //! raw `text`, every remaining piece is normalized on its own, and the
  //! normalized tokens are cut out of those. Within a pass the leftmost
  //! match wins, the longest among those.
  std::vector<Segment>
  extract_and_normalize(std::string_view text,
                        const Normalizer* normalizer) const;

  const AddedToken* find_by_id(int id) const;
  //! Whether decode(skip_special_tokens=true) leaves `token` out: HF skips
  //! a token whose decoded text is the content of a special token, so a
  //! normalized special token whose text changed is kept.
  bool skipped_as_special(const AddedToken& token) const;
  const AddedToken* find_by_content(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

private:
  struct Pattern {
    std::string text; // what is matched
    int index;        // into tokens_
  };
  // Patterns of one pass, by first byte, longest first.
  using MatchingSet = std::vector<std::vector<Pattern>>;
  // Appends the segments of `text` cut at matches of `set`.
  void split(const std::string& text,
             bool at_start,
             const MatchingSet& set,
             std::vector<Segment>& out) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<int, int> index_by_id_;
  std::unordered_set<std::string> special_contents_;
  MatchingSet raw_set_;
  MatchingSet normalized_set_;
};

} // namespace mlxt::tokenizer::detail
