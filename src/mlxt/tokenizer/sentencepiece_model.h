// A SentencePiece `tokenizer.model` (Llama 2, Mistral, llama2.c) run by
// libsentencepiece itself, for model folders without a tokenizer.json.
// Encoding follows the library: control pieces such as "<s>" are never read
// from the text. This is the only file that includes sentencepiece.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace mlxt::tokenizer::detail {

class SentencePieceModel {
public:
  //! Loads a serialized ModelProto; a file that is not one throws
  //! Error(invalid_model) naming it.
  explicit SentencePieceModel(const std::filesystem::path& file);
  ~SentencePieceModel();

  //! Ids of `text` (valid UTF-8), without BOS/EOS.
  std::vector<int> encode(std::string_view text) const;
  //! Text of `ids`; control pieces are left out when skip_special, else
  //! written as their piece text. Ids outside the vocabulary throw
  //! Error(invalid_data).
  std::string decode(const std::vector<int>& ids, bool skip_special) const;

  int vocab_size() const;
  std::optional<int> piece_to_id(std::string_view piece) const;
  std::optional<int> bos_id() const;
  std::optional<int> eos_id() const;
  std::optional<int> pad_id() const;

private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  std::string file_;
};

} // namespace mlxt::tokenizer::detail
