#include "mlxt/tokenizer/added_tokens.h"

#include <algorithm>

#include "mlxt/tokenizer/json_fields.h"
#include "mlxt/tokenizer/unicode.h"
#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer::detail {

namespace {

// The character ending at byte `end` of `text` (end > 0).
char32_t char_before(std::string_view text, std::size_t end) {
  std::size_t start = end - 1;
  while (start > 0 &&
         (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
    --start;
  }
  return utf8_decode(text, start, end - start);
}

char32_t char_at(std::string_view text, std::size_t pos) {
  return utf8_decode(
      text, pos, std::max<std::size_t>(utf8_sequence_length(text, pos), 1));
}

} // namespace

AddedTokens AddedTokens::from_json(const json& list,
                                   const std::string& file,
                                   const Normalizer* normalizer,
                                   const ModelVocabulary& model) {
  AddedTokens out;
  out.raw_set_.resize(256);
  out.normalized_set_.resize(256);
  if (list.is_null()) {
    return out;
  }
  if (!list.is_array()) {
    fail_invalid(file,
                 "added_tokens",
                 "expected an array but received " + describe_type(list));
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string key = "added_tokens[" + std::to_string(i) + "]";
    const json& entry = list[i];
    AddedToken token;
    // The file's id must be there, but HF recomputes it (below).
    int_field(entry, "id", file, key + ".id");
    token.content =
        as_string(require_field(entry, "content", file, key + ".content"),
                  file,
                  key + ".content");
    if (token.content.empty()) {
      fail_invalid(file, key + ".content", "an added token cannot be empty");
    }
    token.special =
        bool_field_or(entry, "special", false, file, key + ".special");
    token.lstrip = bool_field_or(entry, "lstrip", false, file, key + ".lstrip");
    token.rstrip = bool_field_or(entry, "rstrip", false, file, key + ".rstrip");
    token.single_word =
        bool_field_or(entry, "single_word", false, file, key + ".single_word");
    token.normalized = bool_field_or(
        entry, "normalized", !token.special, file, key + ".normalized");
    // HF gives an added token the model's id for its content, else the
    // next free id past the model's vocabulary, whatever the file says.
    if (auto model_id = model.token_to_id(token.content)) {
      token.id = *model_id;
    } else if (out.tokens_.empty()) {
      token.id = model.size;
    } else {
      int max_id = std::max_element(
                       out.tokens_.begin(),
                       out.tokens_.end(),
                       [](const auto& a, const auto& b) { return a.id < b.id; })
                       ->id;
      token.id =
          max_id >= model.size || model.size == 0 ? max_id + 1 : model.size;
    }
    if (out.index_by_id_.contains(token.id)) {
      fail_invalid(file,
                   key + ".id",
                   "id " + std::to_string(token.id) + " is listed twice");
    }
    out.index_by_id_[token.id] = static_cast<int>(out.tokens_.size());
    out.tokens_.push_back(std::move(token));
  }
  for (int index = 0; index < static_cast<int>(out.tokens_.size()); ++index) {
    const AddedToken& token = out.tokens_[index];
    std::string pattern = token.content;
    if (token.normalized && normalizer != nullptr) {
      pattern = normalizer->normalize(pattern);
    }
    out.tokens_[index].decoded = pattern;
    if (token.special) {
      out.special_contents_.insert(token.content);
    }
    if (pattern.empty()) {
      continue;
    }
    auto& set = token.normalized ? out.normalized_set_ : out.raw_set_;
    set[static_cast<unsigned char>(pattern[0])].push_back(
        {std::move(pattern), index});
  }
  for (auto* set : {&out.raw_set_, &out.normalized_set_}) {
    for (auto& patterns : *set) {
      std::stable_sort(
          patterns.begin(), patterns.end(), [](const auto& a, const auto& b) {
            return a.text.size() > b.text.size();
          });
    }
  }
  return out;
}

const AddedToken* AddedTokens::find_by_id(int id) const {
  auto it = index_by_id_.find(id);
  return it == index_by_id_.end() ? nullptr : &tokens_[it->second];
}

bool AddedTokens::skipped_as_special(const AddedToken& token) const {
  return special_contents_.contains(token.decoded);
}

const AddedToken* AddedTokens::find_by_content(std::string_view content) const {
  for (const AddedToken& token : tokens_) {
    if (token.content == content) {
      return &token;
    }
  }
  return nullptr;
}

std::vector<AddedTokens::Segment>
AddedTokens::extract_and_normalize(std::string_view text,
                                   const Normalizer* normalizer) const {
  std::vector<Segment> raw;
  split(std::string(text), true, raw_set_, raw);
  std::vector<Segment> out;
  out.reserve(raw.size());
  for (Segment& segment : raw) {
    if (segment.id) {
      out.push_back(std::move(segment));
      continue;
    }
    if (normalizer != nullptr) {
      normalizer->normalize(segment.text, segment.at_start);
    }
    split(segment.text, segment.at_start, normalized_set_, out);
  }
  return out;
}

// Mirrors HF AddedVocabulary::find_matches: leftmost-longest matches, taken
// left to right without overlap; a single_word token inside a word is
// skipped (its text still counts as scanned); lstrip/rstrip widen the match
// over Unicode whitespace.
void AddedTokens::split(const std::string& text,
                        bool at_start,
                        const MatchingSet& set,
                        std::vector<Segment>& out) const {
  std::size_t emitted = 0; // text before this offset is already in `out`
  auto emit_plain = [&](std::size_t end) {
    if (emitted < end) {
      out.push_back({text.substr(emitted, end - emitted),
                     std::nullopt,
                     at_start && emitted == 0});
    }
  };
  std::size_t pos = 0;
  while (pos < text.size() && !tokens_.empty()) {
    const Pattern* match = nullptr;
    for (const Pattern& pattern : set[static_cast<unsigned char>(text[pos])]) {
      if (text.compare(pos, pattern.text.size(), pattern.text) == 0) {
        match = &pattern;
        break;
      }
    }
    if (match == nullptr) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[match->index];
    std::size_t begin = pos;
    std::size_t end = pos + match->text.size();
    pos = end;
    if (token.single_word &&
        ((begin > 0 && is_word_char(char_before(text, begin))) ||
         (end < text.size() && is_word_char(char_at(text, end))))) {
      continue;
    }
    if (token.lstrip) {
      while (begin > emitted && is_whitespace(char_before(text, begin))) {
        begin -= utf8_encode(char_before(text, begin)).size();
      }
    }
    if (token.rstrip) {
      while (end < text.size() && is_whitespace(char_at(text, end))) {
        end += std::max<std::size_t>(utf8_sequence_length(text, end), 1);
      }
      pos = end;
    }
    emit_plain(begin);
    out.push_back(
        {text.substr(begin, end - begin), token.id, at_start && begin == 0});
    emitted = end;
  }
  emit_plain(text.size());
}

} // namespace mlxt::tokenizer::detail
