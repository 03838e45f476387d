#include "mlxt/tokenizer/pretokenizer.h"

#include <functional>

#include "mlxt/tokenizer/byte_level.h"
#include "mlxt/tokenizer/component_factory.h"
#include "mlxt/tokenizer/json_fields.h"
#include "mlxt/tokenizer/regex_splitter.h"
#include "mlxt/tokenizer/split.h"
#include "mlxt/tokenizer/unicode.h"
#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer::detail {

namespace {

using Ranges = std::vector<std::pair<std::size_t, std::size_t>>;

// Replaces each piece by the sub-pieces `cut` gives for its text.
void split_pieces(std::vector<Piece>& pieces,
                  const std::function<Ranges(const std::string&)>& cut) {
  std::vector<Piece> out;
  out.reserve(pieces.size());
  for (Piece& piece : pieces) {
    for (auto [begin, end] : cut(piece.text)) {
      out.push_back({piece.text.substr(begin, end - begin),
                     piece.at_start && begin == 0});
    }
  }
  pieces = std::move(out);
}

class ByteLevel final : public PreTokenizer {
public:
  ByteLevel(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space) {
    if (use_regex) {
      regex_ = std::make_unique<RegexSplitter>(kGpt2SplitPattern,
                                               where("", "gpt2 pattern"));
    }
  }
  void apply(std::vector<Piece>& pieces) const override {
    // HF adds the prefix space to every piece it receives, not only to the
    // start of the text.
    if (add_prefix_space_) {
      for (Piece& piece : pieces) {
        if (piece.text.front() != ' ') {
          piece.text.insert(piece.text.begin(), ' ');
        }
      }
    }
    if (regex_) {
      split_pieces(pieces, [&](const std::string& text) {
        return apply_split_behavior(
            regex_->find_matches(text), SplitBehavior::isolated, false);
      });
    }
    for (Piece& piece : pieces) {
      piece.text = bytes_to_symbols(piece.text);
    }
  }

private:
  bool add_prefix_space_;
  std::unique_ptr<RegexSplitter> regex_;
};

class Split final : public PreTokenizer {
public:
  Split(RegexSplitter regex, SplitBehavior behavior, bool invert)
      : regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}
  void apply(std::vector<Piece>& pieces) const override {
    split_pieces(pieces, [&](const std::string& text) {
      return apply_split_behavior(
          regex_.find_matches(text), behavior_, invert_);
    });
  }

private:
  RegexSplitter regex_;
  SplitBehavior behavior_;
  bool invert_;
};

// Cuts at characters for which `pred` holds.
class CharSplit final : public PreTokenizer {
public:
  CharSplit(std::function<bool(char32_t)> pred, SplitBehavior behavior)
      : pred_(std::move(pred)), behavior_(behavior) {}
  void apply(std::vector<Piece>& pieces) const override {
    split_pieces(pieces, [&](const std::string& text) {
      return apply_split_behavior(char_matches(text, pred_), behavior_, false);
    });
  }

private:
  std::function<bool(char32_t)> pred_;
  SplitBehavior behavior_;
};

enum class PrependScheme { always, first, never };

class Metaspace final : public PreTokenizer {
public:
  Metaspace(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {
    replacement_cp_ =
        utf8_decode(replacement_, 0, utf8_sequence_length(replacement_, 0));
  }
  void apply(std::vector<Piece>& pieces) const override {
    for (Piece& piece : pieces) {
      std::string text;
      text.reserve(piece.text.size() + replacement_.size());
      for (char c : piece.text) {
        if (c == ' ') {
          text += replacement_;
        } else {
          text += c;
        }
      }
      bool prepend = !text.starts_with(replacement_) &&
                     (scheme_ == PrependScheme::always ||
                      (scheme_ == PrependScheme::first && piece.at_start));
      piece.text = prepend ? replacement_ + text : std::move(text);
    }
    if (split_) {
      char32_t cp = replacement_cp_;
      split_pieces(pieces, [&](const std::string& text) {
        return apply_split_behavior(
            char_matches(text, [cp](char32_t c) { return c == cp; }),
            SplitBehavior::merged_with_next,
            false);
      });
    }
  }

private:
  std::string replacement_;
  char32_t replacement_cp_;
  PrependScheme scheme_;
  bool split_;
};

// Runs of word characters and runs of other non-space characters, as HF's
// Whitespace pre-tokenizer (regex \w+|[^\w\s]+) keeps.
Ranges whitespace_words(const std::string& text) {
  Ranges out;
  int run_class = 0; // 0: whitespace, 1: word, 2: other
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t length =
        std::max<std::size_t>(utf8_sequence_length(text, pos), 1);
    char32_t cp = utf8_decode(text, pos, length);
    int c = is_word_char(cp) ? 1 : is_whitespace(cp) ? 0 : 2;
    if (c != 0 && c == run_class) {
      out.back().second = pos + length;
    } else if (c != 0) {
      out.emplace_back(pos, pos + length);
    }
    run_class = c;
    pos += length;
  }
  return out;
}

class Whitespace final : public PreTokenizer {
public:
  void apply(std::vector<Piece>& pieces) const override {
    split_pieces(pieces, whitespace_words);
  }
};

class Sequence final : public PreTokenizer {
public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  void apply(std::vector<Piece>& pieces) const override {
    for (const auto& step : steps_) {
      step->apply(pieces);
    }
  }

private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

SplitBehavior behavior_field(const json& spec,
                             const std::string& file,
                             const std::string& key,
                             const char* fallback) {
  const json* value = optional_field(spec, "behavior");
  std::string name =
      value != nullptr ? as_string(*value, file, key + ".behavior") : fallback;
  SplitBehavior behavior;
  if (!parse_split_behavior(name, behavior)) {
    fail_invalid(file,
                 key + ".behavior",
                 "unknown split behavior \"" + name +
                     "\"; expected Removed, Isolated, MergedWithPrevious, "
                     "MergedWithNext or Contiguous");
  }
  return behavior;
}

std::unique_ptr<PreTokenizer> make_metaspace(const json& spec,
                                             const std::string& file,
                                             const std::string& key) {
  std::string replacement = "\xE2\x96\x81"; // U+2581
  if (const json* value = optional_field(spec, "replacement")) {
    replacement = as_string(*value, file, key + ".replacement");
  }
  if (replacement.empty() ||
      utf8_sequence_length(replacement, 0) != replacement.size()) {
    fail_invalid(file, key + ".replacement", "expected a single character");
  }
  // Older files say add_prefix_space instead of prepend_scheme.
  PrependScheme scheme =
      bool_field_or(
          spec, "add_prefix_space", true, file, key + ".add_prefix_space")
          ? PrependScheme::always
          : PrependScheme::never;
  if (const json* value = optional_field(spec, "prepend_scheme")) {
    const std::string& name = as_string(*value, file, key + ".prepend_scheme");
    if (name == "always") {
      scheme = PrependScheme::always;
    } else if (name == "first") {
      scheme = PrependScheme::first;
    } else if (name == "never") {
      scheme = PrependScheme::never;
    } else {
      fail_invalid(file,
                   key + ".prepend_scheme",
                   "unknown prepend_scheme \"" + name +
                       "\"; expected always, first or never");
    }
  }
  return std::make_unique<Metaspace>(
      replacement,
      scheme,
      bool_field_or(spec, "split", true, file, key + ".split"));
}

} // namespace

std::vector<std::string> PreTokenizer::words(std::string_view text) const {
  std::vector<Piece> pieces;
  if (!text.empty()) {
    pieces.push_back({std::string(text), true});
  }
  apply(pieces);
  std::vector<std::string> out;
  out.reserve(pieces.size());
  for (Piece& piece : pieces) {
    out.push_back(std::move(piece.text));
  }
  return out;
}

std::unique_ptr<PreTokenizer> gpt2_pre_tokenizer() {
  return std::make_unique<ByteLevel>(false, true);
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& spec,
                                                 const std::string& file,
                                                 const std::string& key) {
  static const ComponentKind<PreTokenizer> kind{
      .noun = "pre-tokenizer",
      .list_name = "pretokenizers",
      .types = {
          {"ByteLevel",
           [](auto& spec, auto& file, auto& key) {
             return std::make_unique<ByteLevel>(
                 bool_field_or(spec,
                               "add_prefix_space",
                               true,
                               file,
                               key + ".add_prefix_space"),
                 bool_field_or(
                     spec, "use_regex", true, file, key + ".use_regex"));
           }},
          {"Split",
           [](auto& spec, auto& file, auto& key) {
             return std::make_unique<Split>(
                 parse_pattern(spec, file, key),
                 behavior_field(spec, file, key, "Isolated"),
                 bool_field_or(spec, "invert", false, file, key + ".invert"));
           }},
          {"Metaspace", make_metaspace},
          {"Digits",
           [](auto& spec, auto& file, auto& key) {
             return std::make_unique<CharSplit>(
                 is_numeric,
                 bool_field_or(spec,
                               "individual_digits",
                               false,
                               file,
                               key + ".individual_digits")
                     ? SplitBehavior::isolated
                     : SplitBehavior::contiguous);
           }},
          {"Punctuation",
           [](auto& spec, auto& file, auto& key) {
             return std::make_unique<CharSplit>(
                 is_punctuation, behavior_field(spec, file, key, "Isolated"));
           }},
          {"Whitespace",
           [](auto&...) { return std::make_unique<Whitespace>(); }},
          {"WhitespaceSplit",
           [](auto&...) {
             return std::make_unique<CharSplit>(is_whitespace,
                                                SplitBehavior::removed);
           }},
          {"BertPreTokenizer",
           [](auto&...) {
             std::vector<std::unique_ptr<PreTokenizer>> steps;
             steps.push_back(std::make_unique<CharSplit>(
                 is_whitespace, SplitBehavior::removed));
             steps.push_back(std::make_unique<CharSplit>(
                 is_punctuation, SplitBehavior::isolated));
             return std::make_unique<Sequence>(std::move(steps));
           }},
      }};
  return make_component<Sequence>(kind, spec, file, key);
}

} // namespace mlxt::tokenizer::detail
