// The BPE model of tokenizer.json ("model": {"type": "BPE", ...}): a
// vocabulary of symbol strings and a ranked list of merges that turn one
// pre-tokenized word into ids.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::tokenizer::detail {

// Hash that lets an unordered_map<std::string, ...> be searched with a
// std::string_view without building a string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const {
    return std::hash<std::string_view>{}(text);
  }
};
using StringToId =
    std::unordered_map<std::string, int, StringHash, std::equal_to<>>;

class BpeModel {
public:
  //! Reads tokenizer.json's "model" value; `file` names the file in errors.
  //! Requires type "BPE"; merges may be "a b" strings or ["a", "b"] pairs.
  //! Byte-level (GPT-2) and SentencePiece-style (byte_fallback) both work.
  static BpeModel from_json(const nlohmann::json& model,
                            const std::string& file);

  //! Appends the ids of `word` (one pre-tokenized word) to `ids`.
  //! Characters missing from the vocabulary become their "<0xNN>" byte
  //! tokens with byte_fallback, else the unk token when there is one, and
  //! are dropped otherwise (as HF does).
  void encode_word(std::string_view word, std::vector<int>& ids) const;

  std::optional<int> token_to_id(std::string_view token) const;
  //! The token string of `id`, or nullptr when the vocabulary has no `id`.
  const std::string* id_to_token(int id) const;
  //! Number of tokens in the vocabulary.
  int size() const { return static_cast<int>(vocab_.size()); }
  //! Largest id in the vocabulary, -1 when empty.
  int max_id() const { return static_cast<int>(id_to_token_.size()) - 1; }

  BpeModel(BpeModel&&) noexcept;
  BpeModel& operator=(BpeModel&&) noexcept;
  ~BpeModel();

private:
  BpeModel();
  std::vector<int> merge_word(std::string_view word) const;

  struct Merge {
    int rank;      // position in the merges list; lower merges first
    int merged_id; // id of the concatenated symbol
  };
  static std::uint64_t pair_key(int left, int right) {
    return (static_cast<std::uint64_t>(left) << 32) |
           static_cast<std::uint32_t>(right);
  }

  StringToId vocab_;
  std::vector<std::string> id_to_token_; // "" where an id is unused
  std::vector<bool> id_used_;
  std::unordered_map<std::uint64_t, Merge> merges_; // by pair_key
  std::optional<int> unk_id_;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
  bool byte_fallback_ = false;
  std::array<int, 256> byte_ids_{}; // id of "<0xNN>" per byte, -1 if none
  struct WordCache; // word -> ids, shared by threads behind a mutex
  std::unique_ptr<WordCache> cache_;
};

} // namespace mlxt::tokenizer::detail
