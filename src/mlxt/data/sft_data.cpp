#include "mlxt/data/sft_data.h"

#include "mlxt/core/error.h"

namespace mlxt::data {

namespace fs = std::filesystem;

EncodedSplit encode_sft_split(const fs::path& file,
                              const tokenizer::Tokenizer& tok,
                              const EncodeOptions& encode,
                              const DataOptions& data,
                              const std::function<void(Example&&)>& sink) {
  RecordReader reader(file, data);
  EncodedSplit split;
  split.source = file.string();
  split.format = reader.detection().format;
  while (auto r = reader.next()) {
    Example e = encode_record(r->record, tok, encode, reader.file(), r->line);
    bool truncated = false;
    const bool has_target =
        truncate_example(e, encode.max_seq_length, truncated);
    split.summary.truncated += truncated;
    if (!has_target) {
      ++split.summary.dropped_no_targets;
      continue;
    }
    ++split.summary.kept;
    sink(std::move(e));
  }
  split.read = reader.summary();
  split.summary.rows_read = split.read.rows_read;
  split.summary.invalid = split.read.invalid;
  if (split.summary.kept == 0) {
    fail(ErrorCode::invalid_data,
         split.summary.rows_read == 0 ? "the file has no rows"
                                      : "no row has a training target left",
         {.file = file.string()});
  }
  return split;
}

EncodedSplit load_sft_split(const fs::path& file,
                            const tokenizer::Tokenizer& tok,
                            const EncodeOptions& encode,
                            const DataOptions& data) {
  std::vector<Example> examples;
  EncodedSplit split =
      encode_sft_split(file, tok, encode, data, [&](Example&& e) {
        examples.push_back(std::move(e));
      });
  split.examples = std::move(examples);
  return split;
}

EncodedDataset load_sft_data(const fs::path& data,
                             const tokenizer::Tokenizer& tok,
                             const EncodeOptions& encode,
                             const DataOptions& options) {
  const SplitFiles files = find_splits(data);
  EncodedDataset dataset{
      load_sft_split(files.train, tok, encode, options), {}, {}};
  if (files.valid) {
    dataset.valid = load_sft_split(*files.valid, tok, encode, options);
  }
  if (files.test) {
    dataset.test = load_sft_split(*files.test, tok, encode, options);
  }
  return dataset;
}

} // namespace mlxt::data
