#include "mlxt/data/preference_data.h"

#include "mlxt/core/error.h"
#include "mlxt/data/encode.h"

namespace mlxt::data {

namespace fs = std::filesystem;

namespace {

// One side of a pair as a chat: the prompt turns, then the answer's.
Record side(const Record& pair, const std::vector<Message>& answer) {
  Record chat;
  chat.kind = Record::Kind::chat;
  chat.tools = pair.tools;
  chat.messages = pair.messages;
  chat.messages.insert(chat.messages.end(), answer.begin(), answer.end());
  return chat;
}

} // namespace

PreferencePair encode_preference_pair(const Record& pair,
                                      const tokenizer::Tokenizer& tok,
                                      int max_seq_length,
                                      const std::string& file,
                                      long line) {
  const EncodeOptions encode{.mask_prompt = true,
                             .max_seq_length = max_seq_length};
  return {encode_record(side(pair, pair.chosen), tok, encode, file, line),
          encode_record(side(pair, pair.rejected), tok, encode, file, line),
          static_cast<float>(pair.margin)};
}

PreferenceSplit load_preference_split(const fs::path& file,
                                      const tokenizer::Tokenizer& tok,
                                      int max_seq_length,
                                      const DataOptions& options) {
  RecordReader reader(file, options);
  PreferenceSplit split;
  split.source = file.string();
  while (auto r = reader.next()) {
    if (r->record.kind != Record::Kind::preference) {
      fail(ErrorCode::invalid_data,
           "this training method (dpo, reward) needs preference rows "
           "(prompt, chosen, rejected); this row has no chosen/rejected pair",
           {.file = reader.file(), .line = r->line});
    }
    PreferencePair pair = encode_preference_pair(
        r->record, tok, max_seq_length, reader.file(), r->line);
    bool cut_chosen = false;
    bool cut_rejected = false;
    const bool kept =
        truncate_example(pair.chosen, max_seq_length, cut_chosen) &
        truncate_example(pair.rejected, max_seq_length, cut_rejected);
    split.summary.truncated += cut_chosen || cut_rejected;
    if (!kept) {
      ++split.summary.dropped_no_targets;
      continue;
    }
    ++split.summary.kept;
    split.pairs.push_back(std::move(pair));
  }
  split.summary.rows_read = reader.summary().rows_read;
  split.summary.invalid = reader.summary().invalid;
  if (split.pairs.empty()) {
    fail(ErrorCode::invalid_data,
         split.summary.rows_read == 0 ? "the file has no rows"
                                      : "no pair has a training target left",
         {.file = file.string()});
  }
  return split;
}

PreferenceDataset load_preference_data(const fs::path& data,
                                       const tokenizer::Tokenizer& tok,
                                       int max_seq_length,
                                       const DataOptions& options) {
  const SplitFiles files = find_splits(data);
  PreferenceDataset dataset{
      load_preference_split(files.train, tok, max_seq_length, options), {}, {}};
  if (files.valid) {
    dataset.valid =
        load_preference_split(*files.valid, tok, max_seq_length, options);
  }
  if (files.test) {
    dataset.test =
        load_preference_split(*files.test, tok, max_seq_length, options);
  }
  return dataset;
}

} // namespace mlxt::data
