// Supervised fine-tuning data: every split of a dataset (a file, or a folder
// with train/valid/test files of any supported kind and format) read,
// validated and encoded into Examples for the trainer. A row with no target
// left after truncation is dropped and counted.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "mlxt/data/dataset.h"
#include "mlxt/data/encode.h"
#include "mlxt/data/example.h"

namespace mlxt::data {

struct EncodedSplit {
  std::string source; // the file it came from
  Format format = Format::messages;
  std::vector<Example> examples;
  EncodeSummary summary;
  ReadSummary read; // rows read and invalid rows, with their problems
};

struct EncodedDataset {
  EncodedSplit train;
  std::optional<EncodedSplit> valid;
  std::optional<EncodedSplit> test;
};

//! Reads and encodes one file, handing each kept example to `sink` in file
//! order, so memory stays bounded; the split comes back without examples.
//! Errors as load_sft_split.
EncodedSplit encode_sft_split(const std::filesystem::path& file,
                              const tokenizer::Tokenizer& tok,
                              const EncodeOptions& encode,
                              const DataOptions& data,
                              const std::function<void(Example&&)>& sink);

//! Reads and encodes one file. Throws Error(invalid_data) for an invalid row
//! (unless data.skip_invalid), and when no example is left.
EncodedSplit load_sft_split(const std::filesystem::path& file,
                            const tokenizer::Tokenizer& tok,
                            const EncodeOptions& encode,
                            const DataOptions& data = {});

//! Every split of `data` (see find_splits).
EncodedDataset load_sft_data(const std::filesystem::path& data,
                             const tokenizer::Tokenizer& tok,
                             const EncodeOptions& encode,
                             const DataOptions& options = {});

} // namespace mlxt::data
