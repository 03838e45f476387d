// Preference data for DPO and reward models: each pair's prompt + chosen and
// prompt + rejected encoded through the chat template with the prompt masked
// (targets only on the answer tokens). The two sides of a pair stay together; a
// pair where either side has no target left after truncation is dropped and
// counted.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "mlxt/data/dataset.h"
#include "mlxt/data/example.h"
#include "mlxt/tokenizer/tokenizer.h"

namespace mlxt::data {

struct PreferencePair {
  Example chosen;
  Example rejected;
  float margin = 0.0f; // the row's `margin` (reward models), 0 when absent
};

struct PreferenceSplit {
  std::string source;
  std::vector<PreferencePair> pairs;
  EncodeSummary summary; // counted in pairs
};

struct PreferenceDataset {
  PreferenceSplit train;
  std::optional<PreferenceSplit> valid;
  std::optional<PreferenceSplit> test;
};

//! Both sides of the preference record `pair` encoded (before
//! truncation), `file`/`line` naming the row in errors.
PreferencePair encode_preference_pair(const Record& pair,
                                      const tokenizer::Tokenizer& tok,
                                      int max_seq_length,
                                      const std::string& file,
                                      long line);

//! Reads and encodes one file of preference rows. Throws Error(invalid_data)
//! naming the file and line for a row that is not a preference pair, and
//! when no pair is left.
PreferenceSplit load_preference_split(const std::filesystem::path& file,
                                      const tokenizer::Tokenizer& tok,
                                      int max_seq_length,
                                      const DataOptions& options = {});

//! Every split of `data` (see find_splits).
PreferenceDataset load_preference_data(const std::filesystem::path& data,
                                       const tokenizer::Tokenizer& tok,
                                       int max_seq_length,
                                       const DataOptions& options = {});

} // namespace mlxt::data
