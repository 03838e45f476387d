#include "mlxt/tokenizer/added_tokens.h"

#include <algorithm>
#include <cctype>

#include "mlxt/tokenizer/json_fields.h"

namespace mlxt::tokenizer::detail {

namespace {

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

// Bytes that count as part of a word for single_word tokens: ASCII letters,
// digits, '_' and any non-ASCII byte (an approximation of HF's Unicode check).
bool is_word_byte(char c) {
  auto byte = static_cast<unsigned char>(c);
  return std::isalnum(byte) || c == '_' || byte >= 0x80;
}

} // namespace

AddedTokens AddedTokens::from_json(const json& list, const std::string& file) {
  AddedTokens out;
  out.raw_candidates_.resize(256);
  out.normalized_candidates_.resize(256);
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
    token.id = int_field(entry, "id", file, key + ".id");
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
    auto& table =
        token.normalized ? out.normalized_candidates_ : out.raw_candidates_;
    table[static_cast<unsigned char>(token.content[0])].push_back(index);
  }
  for (auto* table : {&out.raw_candidates_, &out.normalized_candidates_}) {
    for (auto& candidates : *table) {
      std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) {
        return out.tokens_[a].content.size() > out.tokens_[b].content.size();
      });
    }
  }
  return out;
}

const AddedToken* AddedTokens::find_by_id(int id) const {
  auto it = index_by_id_.find(id);
  return it == index_by_id_.end() ? nullptr : &tokens_[it->second];
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
AddedTokens::split(std::string_view text) const {
  std::vector<Segment> segments{{text, std::nullopt}};
  if (tokens_.empty() || text.empty()) {
    return segments;
  }
  segments = split_pass(segments, raw_candidates_);
  return split_pass(segments, normalized_candidates_);
}

std::vector<AddedTokens::Segment> AddedTokens::split_pass(
    const std::vector<Segment>& segments,
    const std::vector<std::vector<int>>& candidates_by_first_byte) const {
  std::vector<Segment> out;
  for (const Segment& segment : segments) {
    if (segment.id) {
      out.push_back(segment);
      continue;
    }
    std::string_view text = segment.text;
    std::size_t plain_begin = 0; // start of text not yet emitted
    std::size_t pos = 0;
    while (pos < text.size()) {
      const AddedToken* match = nullptr;
      for (int index :
           candidates_by_first_byte[static_cast<unsigned char>(text[pos])]) {
        const AddedToken& token = tokens_[index];
        if (text.substr(pos).starts_with(token.content)) {
          std::size_t end = pos + token.content.size();
          if (token.single_word &&
              ((pos > 0 && is_word_byte(text[pos - 1])) ||
               (end < text.size() && is_word_byte(text[end])))) {
            continue;
          }
          match = &token;
          break;
        }
      }
      if (match == nullptr) {
        ++pos;
        continue;
      }
      std::size_t begin = pos;
      std::size_t end = pos + match->content.size();
      if (match->lstrip) {
        while (begin > plain_begin && is_ascii_space(text[begin - 1])) {
          --begin;
        }
      }
      if (match->rstrip) {
        while (end < text.size() && is_ascii_space(text[end])) {
          ++end;
        }
      }
      if (begin > plain_begin) {
        out.push_back(
            {text.substr(plain_begin, begin - plain_begin), std::nullopt});
      }
      out.push_back({text.substr(begin, end - begin), match->id});
      plain_begin = end;
      pos = end;
    }
    if (plain_begin < text.size()) {
      out.push_back({text.substr(plain_begin), std::nullopt});
    }
  }
  return out;
}

} // namespace mlxt::tokenizer::detail
