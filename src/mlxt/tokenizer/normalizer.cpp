#include "mlxt/tokenizer/normalizer.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "mlxt/tokenizer/component_factory.h"
#include "mlxt/tokenizer/json_fields.h"
#include "mlxt/tokenizer/regex_splitter.h"
#include "mlxt/tokenizer/unicode.h"
#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer::detail {

namespace {

class UnicodeForm final : public Normalizer {
public:
  explicit UnicodeForm(NormalForm form) : form_(form) {}
  void normalize(std::string& text, bool&) const override {
    text = normalize_unicode(text, form_);
  }

private:
  NormalForm form_;
};

class Lowercase final : public Normalizer {
public:
  void normalize(std::string& text, bool&) const override {
    text = lowercase(text);
  }
};

// Removes characters for which `drop` holds.
class Filter final : public Normalizer {
public:
  explicit Filter(bool (*drop)(char32_t)) : drop_(drop) {}
  void normalize(std::string& text, bool& at_start) const override {
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
      std::size_t length =
          std::max<std::size_t>(utf8_sequence_length(text, pos), 1);
      if (!drop_(utf8_decode(text, pos, length))) {
        out.append(text, pos, length);
      } else if (pos == 0) {
        at_start = false;
      }
      pos += length;
    }
    text = std::move(out);
  }

private:
  bool (*drop_)(char32_t);
};

class Prepend final : public Normalizer {
public:
  explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string& text, bool&) const override {
    // HF prepends to non-empty strings only.
    if (!text.empty()) {
      text.insert(0, prefix_);
    }
  }

private:
  std::string prefix_;
};

class Replace final : public Normalizer {
public:
  Replace(RegexSplitter pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(std::string& text, bool& at_start) const override {
    std::string out;
    out.reserve(text.size());
    for (const auto& range : pattern_.find_matches(text)) {
      if (!range.is_match) {
        out.append(text, range.begin, range.end - range.begin);
        continue;
      }
      out += content_;
      // Deleting the first character moves the start.
      if (range.begin == 0 && range.end > 0 && content_.empty()) {
        at_start = false;
      }
    }
    text = std::move(out);
  }

private:
  RegexSplitter pattern_;
  std::string content_;
};

class Strip final : public Normalizer {
public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text, bool& at_start) const override {
    std::size_t begin = 0;
    std::size_t end = text.size();
    if (left_) {
      while (begin < end) {
        std::size_t length =
            std::max<std::size_t>(utf8_sequence_length(text, begin), 1);
        if (!is_whitespace(utf8_decode(text, begin, length))) {
          break;
        }
        begin += length;
      }
    }
    if (right_) {
      while (end > begin) {
        std::size_t start = end - 1;
        while (start > begin && (text[start] & 0xC0) == 0x80) {
          --start;
        }
        if (!is_whitespace(utf8_decode(text, start, end - start))) {
          break;
        }
        end = start;
      }
    }
    if (begin > 0) {
      at_start = false;
    }
    text = text.substr(begin, end - begin);
  }

private:
  bool left_, right_;
};

class Sequence final : public Normalizer {
public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(std::move(steps)) {}
  void normalize(std::string& text, bool& at_start) const override {
    for (const auto& step : steps_) {
      step->normalize(text, at_start);
    }
  }

private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

} // namespace

std::unique_ptr<Normalizer> make_normalizer(const json& spec,
                                            const std::string& file,
                                            const std::string& key) {
  static const ComponentKind<Normalizer> kind{
      .noun = "normalizer",
      .list_name = "normalizers",
      .types = {
          {"NFC",
           [](auto&...) {
             return std::make_unique<UnicodeForm>(NormalForm::nfc);
           }},
          {"NFD",
           [](auto&...) {
             return std::make_unique<UnicodeForm>(NormalForm::nfd);
           }},
          {"NFKC",
           [](auto&...) {
             return std::make_unique<UnicodeForm>(NormalForm::nfkc);
           }},
          {"NFKD",
           [](auto&...) {
             return std::make_unique<UnicodeForm>(NormalForm::nfkd);
           }},
          {"Lowercase", [](auto&...) { return std::make_unique<Lowercase>(); }},
          {"StripAccents",
           [](auto&...) {
             return std::make_unique<Filter>(&is_combining_mark);
           }},
          {"Prepend",
           [](auto& spec, auto& file, auto& key) {
             return std::make_unique<Prepend>(
                 string_field(spec, "prepend", file, key + ".prepend"));
           }},
          {"Replace",
           [](auto& spec, auto& file, auto& key) {
             return std::make_unique<Replace>(
                 parse_pattern(spec, file, key),
                 string_field(spec, "content", file, key + ".content"));
           }},
          {"Strip",
           [](auto& spec, auto& file, auto& key) {
             return std::make_unique<Strip>(
                 bool_field_or(
                     spec, "strip_left", true, file, key + ".strip_left"),
                 bool_field_or(
                     spec, "strip_right", true, file, key + ".strip_right"));
           }},
      }};
  return make_component<Sequence>(kind, spec, file, key);
}

} // namespace mlxt::tokenizer::detail
