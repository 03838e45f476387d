#include "mlxt/tokenizer/sentencepiece_model.h"

#include <sentencepiece_processor.h>

#include "mlxt/core/error.h"

namespace mlxt::tokenizer::detail {

namespace {

std::optional<int> valid_id(int id) {
  return id >= 0 ? std::optional<int>(id) : std::nullopt;
}

} // namespace

SentencePieceModel::SentencePieceModel(const std::filesystem::path& file)
    : processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()),
      file_(file.string()) {
  auto status = processor_->Load(file_);
  if (!status.ok()) {
    fail(ErrorCode::invalid_model,
         "not a SentencePiece model: " + status.ToString(),
         {file_, 0, ""});
  }
}

SentencePieceModel::~SentencePieceModel() = default;

std::vector<int> SentencePieceModel::encode(std::string_view text) const {
  std::vector<int> ids;
  auto status = processor_->Encode(text, &ids);
  if (!status.ok()) {
    fail(ErrorCode::invalid_data,
         "SentencePiece could not encode the text: " + status.ToString(),
         {file_, 0, ""});
  }
  return ids;
}

std::string SentencePieceModel::decode(const std::vector<int>& ids,
                                       bool skip_special) const {
  std::string text;
  std::vector<int> run; // ids decoded together, between control pieces
  auto flush = [&] {
    if (run.empty()) {
      return;
    }
    std::string part;
    auto status = processor_->Decode(run, &part);
    if (!status.ok()) {
      fail(ErrorCode::invalid_data,
           "SentencePiece could not decode the ids: " + status.ToString(),
           {file_, 0, ""});
    }
    text += part;
    run.clear();
  };
  for (int id : ids) {
    if (id < 0 || id >= vocab_size()) {
      fail(ErrorCode::invalid_data,
           "decode: id " + std::to_string(id) +
               " is not in the vocabulary (size " +
               std::to_string(vocab_size()) + ")");
    }
    if (!skip_special && processor_->IsControl(id)) {
      flush();
      text += processor_->IdToPiece(id);
      continue;
    }
    run.push_back(id);
  }
  flush();
  return text;
}

int SentencePieceModel::vocab_size() const {
  return processor_->GetPieceSize();
}

std::optional<int>
SentencePieceModel::piece_to_id(std::string_view piece) const {
  int id = processor_->PieceToId(piece);
  // PieceToId answers unk_id for unknown pieces.
  if (id < 0 ||
      (processor_->IsUnknown(id) && processor_->IdToPiece(id) != piece)) {
    return std::nullopt;
  }
  return id;
}

std::optional<int> SentencePieceModel::bos_id() const {
  return valid_id(processor_->bos_id());
}

std::optional<int> SentencePieceModel::eos_id() const {
  return valid_id(processor_->eos_id());
}

std::optional<int> SentencePieceModel::pad_id() const {
  return valid_id(processor_->pad_id());
}

} // namespace mlxt::tokenizer::detail
