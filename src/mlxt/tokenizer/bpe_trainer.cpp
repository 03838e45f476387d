// Byte-level BPE training (Sennrich et al. 2016, "Neural Machine Translation
// of Rare Words with Subword Units", on GPT-2's byte alphabet): count the
// pre-tokenized words, then repeatedly merge the most frequent adjacent pair.
// Pair counts are updated only for the words a merge touches, so training
// costs about (merges x words containing the pair), not a recount per merge.
#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "mlxt/core/error.h"
#include "mlxt/tokenizer/byte_level.h"
#include "mlxt/tokenizer/chat_format.h"
#include "mlxt/tokenizer/pretokenizer.h"
#include "mlxt/tokenizer/tokenizer.h"
#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer {

namespace {

using nlohmann::json;
using PairKey = std::uint64_t;

PairKey pair_key(int left, int right) {
  return (static_cast<PairKey>(left) << 32) | static_cast<std::uint32_t>(right);
}
int pair_left(PairKey key) {
  return static_cast<int>(key >> 32);
}
int pair_right(PairKey key) {
  return static_cast<int>(key & 0xFFFFFFFFu);
}

void validate_options(const BpeTrainOptions& options) {
  int minimum = 256 + static_cast<int>(options.special_tokens.size());
  if (options.vocab_size < minimum) {
    fail(
        ErrorCode::invalid_config,
        "train_byte_level_bpe: vocab_size must be at least 256 byte tokens + " +
            std::to_string(options.special_tokens.size()) +
            " special tokens = " + std::to_string(minimum) + " but received " +
            std::to_string(options.vocab_size),
        {"", 0, "vocab_size"});
  }
  std::unordered_set<std::string> seen;
  for (const auto& token : options.special_tokens) {
    if (token.empty() || !seen.insert(token).second) {
      fail(ErrorCode::invalid_config,
           "train_byte_level_bpe: special tokens must be non-empty and "
           "distinct; "
           "received \"" +
               token + "\" twice or empty",
           {"", 0, "special_tokens"});
    }
  }
}

// `text` without the special tokens' text: the pieces between them, so the
// trainer never merges across or into a special token.
std::vector<std::string_view>
cut_special_tokens(std::string_view text,
                   const std::vector<std::string>& special_tokens) {
  std::vector<std::string_view> pieces{text};
  for (const std::string& token : special_tokens) {
    std::vector<std::string_view> next;
    for (std::string_view piece : pieces) {
      std::size_t start = 0;
      for (std::size_t at;
           (at = piece.find(token, start)) != std::string_view::npos;) {
        next.push_back(piece.substr(start, at - start));
        start = at + token.size();
      }
      next.push_back(piece.substr(start));
    }
    pieces = std::move(next);
  }
  return pieces;
}

struct Word {
  std::vector<int> symbols; // token ids, merged as training goes on
  std::int64_t count = 0;   // occurrences in the corpus
};

class Trainer {
public:
  explicit Trainer(const BpeTrainOptions& options) : options_(options) {
    // Ids 0..255: the byte symbols in code point order, which is GPT-2's
    // vocabulary order (printable bytes first, then U+0100..).
    std::vector<std::string> symbols(detail::byte_symbols().begin(),
                                     detail::byte_symbols().end());
    std::sort(symbols.begin(), symbols.end());
    for (auto& symbol : symbols) {
      add_token(symbol);
    }
  }

  void count_words(const std::vector<std::string>& texts) {
    auto pre_tokenizer = detail::gpt2_pre_tokenizer();
    std::unordered_map<std::string, std::int64_t> counts;
    for (const std::string& text : texts) {
      for (std::string_view piece :
           cut_special_tokens(text, options_.special_tokens)) {
        for (std::string& word : pre_tokenizer->words(piece)) {
          ++counts[std::move(word)];
        }
      }
    }
    // Sorted so that everything downstream is independent of hash order.
    std::vector<std::pair<std::string, std::int64_t>> sorted(counts.begin(),
                                                             counts.end());
    std::sort(sorted.begin(), sorted.end());
    for (const auto& [text, count] : sorted) {
      Word word;
      word.count = count;
      for (std::size_t pos = 0; pos < text.size();) {
        std::size_t length = detail::utf8_sequence_length(text, pos);
        word.symbols.push_back(id_of_.at(text.substr(pos, length)));
        pos += length;
      }
      words_.push_back(std::move(word));
    }
  }

  void merge_until_done() {
    for (int w = 0; w < static_cast<int>(words_.size()); ++w) {
      add_pairs(w, +1);
    }
    for (const auto& [pair, count] : pair_counts_) {
      queue_.push({count, pair});
    }
    touched_.clear();
    std::int64_t min_frequency = std::max(1, options_.min_frequency);
    std::size_t target = options_.vocab_size - options_.special_tokens.size();
    std::vector<int> last_merge_of_word(words_.size(), -1);
    while (tokens_.size() < target && !queue_.empty()) {
      Candidate best = queue_.top();
      queue_.pop();
      auto it = pair_counts_.find(best.pair);
      if (it == pair_counts_.end() || it->second != best.count) {
        continue; // stale: the count changed after this entry was pushed
      }
      if (best.count < min_frequency) {
        break;
      }
      int left = pair_left(best.pair), right = pair_right(best.pair);
      int merged = add_token(tokens_[left] + tokens_[right]);
      merges_.emplace_back(left, right);
      int merge_index = static_cast<int>(merges_.size());
      // Taken out first: merging only adds entries for other pairs.
      std::vector<int> words_to_merge = std::move(words_with_pair_[best.pair]);
      words_with_pair_.erase(best.pair);
      for (int w : words_to_merge) {
        if (last_merge_of_word[w] == merge_index ||
            !contains_pair(words_[w].symbols, left, right)) {
          continue; // listed twice, or a stale listing
        }
        last_merge_of_word[w] = merge_index;
        add_pairs(w, -1);
        merge_in_word(words_[w].symbols, left, right, merged);
        add_pairs(w, +1);
      }
      pair_counts_.erase(best.pair);
      std::sort(touched_.begin(), touched_.end());
      touched_.erase(std::unique(touched_.begin(), touched_.end()),
                     touched_.end());
      for (PairKey pair : touched_) {
        auto count = pair_counts_.find(pair);
        if (count != pair_counts_.end() && count->second > 0) {
          queue_.push({count->second, pair});
        }
      }
      touched_.clear();
    }
  }

  std::pair<json, json> write_files() const;

private:
  struct Candidate {
    std::int64_t count;
    PairKey pair;
  };
  // Max-heap order: the higher count wins; on equal counts the pair whose
  // (left, right) strings sort first wins, which makes training
  // deterministic.
  struct CandidateOrder {
    const std::vector<std::string>* tokens;
    bool operator()(const Candidate& a, const Candidate& b) const {
      if (a.count != b.count) {
        return a.count < b.count;
      }
      const auto& ta = (*tokens)[pair_left(a.pair)];
      const auto& tb = (*tokens)[pair_left(b.pair)];
      if (ta != tb) {
        return ta > tb;
      }
      return (*tokens)[pair_right(a.pair)] > (*tokens)[pair_right(b.pair)];
    }
  };

  // Id of `token`, adding it to the vocabulary when new. (Two merges can
  // spell the same string, e.g. "a"+"bc" and "ab"+"c"; they share the id.)
  int add_token(const std::string& token) {
    auto [it, inserted] =
        id_of_.emplace(token, static_cast<int>(tokens_.size()));
    if (inserted) {
      tokens_.push_back(token);
    }
    return it->second;
  }

  // Adds (sign +1) or removes (-1) word `w`'s adjacent pairs from the counts.
  void add_pairs(int w, int sign) {
    const Word& word = words_[w];
    for (std::size_t i = 0; i + 1 < word.symbols.size(); ++i) {
      PairKey pair = pair_key(word.symbols[i], word.symbols[i + 1]);
      pair_counts_[pair] += sign * word.count;
      if (sign > 0) {
        words_with_pair_[pair].push_back(w);
      }
      touched_.push_back(pair);
    }
  }

  static bool
  contains_pair(const std::vector<int>& symbols, int left, int right) {
    for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
      if (symbols[i] == left && symbols[i + 1] == right) {
        return true;
      }
    }
    return false;
  }

  static void
  merge_in_word(std::vector<int>& symbols, int left, int right, int merged) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < symbols.size(); ++i) {
      if (i + 1 < symbols.size() && symbols[i] == left &&
          symbols[i + 1] == right) {
        symbols[out++] = merged;
        ++i;
      } else {
        symbols[out++] = symbols[i];
      }
    }
    symbols.resize(out);
  }

  const BpeTrainOptions& options_;
  std::vector<std::string> tokens_; // id -> token string
  std::unordered_map<std::string, int> id_of_;
  std::vector<std::pair<int, int>> merges_; // in training order = rank
  std::vector<Word> words_;
  std::unordered_map<PairKey, std::int64_t> pair_counts_;
  // Words that contained each pair when it was counted (may hold stale or
  // repeated entries; merging a word that lacks the pair changes nothing).
  std::unordered_map<PairKey, std::vector<int>> words_with_pair_;
  std::vector<PairKey> touched_; // pairs whose counts changed this merge
  std::priority_queue<Candidate, std::vector<Candidate>, CandidateOrder> queue_{
      CandidateOrder{&tokens_}};
};

json byte_level_section(bool add_prefix_space, bool trim_offsets) {
  return {{"type", "ByteLevel"},
          {"add_prefix_space", add_prefix_space},
          {"trim_offsets", trim_offsets},
          {"use_regex", true}};
}

std::pair<json, json> Trainer::write_files() const {
  json vocab = json::object();
  for (std::size_t id = 0; id < tokens_.size(); ++id) {
    vocab[tokens_[id]] = id;
  }
  json merges = json::array();
  for (const auto& [left, right] : merges_) {
    merges.push_back({tokens_[left], tokens_[right]});
  }
  json added_tokens = json::array();
  json added_tokens_decoder = json::object();
  for (std::size_t i = 0; i < options_.special_tokens.size(); ++i) {
    const std::string& content = options_.special_tokens[i];
    int id = static_cast<int>(tokens_.size() + i);
    if (id_of_.contains(content)) {
      fail(ErrorCode::invalid_config,
           "train_byte_level_bpe: special token \"" + content +
               "\" is also a learned token; pick a string that cannot occur "
               "in the corpus",
           {"", 0, "special_tokens"});
    }
    // Special tokens are in the model vocab too, as HF's trainer does.
    vocab[content] = id;
    json entry = {{"content", content},
                  {"single_word", false},
                  {"lstrip", false},
                  {"rstrip", false},
                  {"normalized", false},
                  {"special", true}};
    added_tokens_decoder[std::to_string(id)] = entry;
    entry["id"] = id;
    added_tokens.push_back(entry);
  }

  json tokenizer_json = {{"version", "1.0"},
                         {"truncation", nullptr},
                         {"padding", nullptr},
                         {"added_tokens", added_tokens},
                         {"normalizer", nullptr},
                         {"pre_tokenizer", byte_level_section(false, true)},
                         {"post_processor", byte_level_section(true, false)},
                         {"decoder", byte_level_section(true, true)},
                         {"model",
                          {{"type", "BPE"},
                           {"dropout", nullptr},
                           {"unk_token", nullptr},
                           {"continuing_subword_prefix", nullptr},
                           {"end_of_word_suffix", nullptr},
                           {"fuse_unk", false},
                           {"byte_fallback", false},
                           {"ignore_merges", false},
                           {"vocab", vocab},
                           {"merges", merges}}}};

  auto special_or_null = [&](const std::string& token) -> json {
    bool present = std::find(options_.special_tokens.begin(),
                             options_.special_tokens.end(),
                             token) != options_.special_tokens.end();
    return present ? json(token) : json(nullptr);
  };
  json eos = special_or_null("<|im_end|>");
  if (eos.is_null()) {
    eos = special_or_null("<|endoftext|>");
  }
  json config = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                 {"bos_token", special_or_null("<|endoftext|>")},
                 {"eos_token", eos},
                 {"pad_token", special_or_null("<|endoftext|>")},
                 {"add_bos_token", false},
                 {"add_eos_token", false},
                 {"clean_up_tokenization_spaces", false},
                 {"model_max_length", options_.model_max_length},
                 {"chat_template", std::string(detail::kChatMlTemplate)},
                 {"added_tokens_decoder", added_tokens_decoder}};
  return {tokenizer_json, config};
}

} // namespace

std::pair<json, json>
train_byte_level_bpe(const std::vector<std::string>& texts,
                     const BpeTrainOptions& options) {
  validate_options(options);
  Trainer trainer(options);
  trainer.count_words(texts);
  trainer.merge_until_done();
  return trainer.write_files();
}

} // namespace mlxt::tokenizer
