#include "mlxt/tokenizer/decoder.h"

#include <algorithm>
#include <optional>

#include "mlxt/tokenizer/byte_level.h"
#include "mlxt/tokenizer/component_factory.h"
#include "mlxt/tokenizer/json_fields.h"
#include "mlxt/tokenizer/regex_splitter.h"
#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer::detail {

namespace {

std::vector<char32_t> code_points(const std::string& text) {
  std::vector<char32_t> out;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t length =
        std::max<std::size_t>(utf8_sequence_length(text, pos), 1);
    out.push_back(utf8_decode(text, pos, length));
    pos += length;
  }
  return out;
}

std::string from_code_points(const std::vector<char32_t>& cps,
                             std::size_t begin,
                             std::size_t end) {
  std::string out;
  for (std::size_t i = begin; i < end; ++i) {
    out += utf8_encode(cps[i]);
  }
  return out;
}

class ByteLevel final : public Decoder {
public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& token : tokens) {
      bytes += token_to_bytes(token);
    }
    // Token boundaries can split a UTF-8 character; HF replaces the broken
    // bytes with U+FFFD, and so do we.
    tokens.assign(1, utf8_lossy(bytes));
  }
};

// "<0x41>"-style tokens become their byte; runs of them are read as UTF-8.
class ByteFallback final : public Decoder {
public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    auto flush = [&] {
      if (pending.empty()) {
        return;
      }
      if (!find_invalid_utf8(pending)) {
        out.push_back(pending);
      } else {
        // HF gives one U+FFFD per byte here, not the lossy conversion.
        for (std::size_t i = 0; i < pending.size(); ++i) {
          out.emplace_back("\xEF\xBF\xBD");
        }
      }
      pending.clear();
    };
    for (std::string& token : tokens) {
      if (auto byte = byte_token_value(token)) {
        pending += static_cast<char>(*byte);
        continue;
      }
      flush();
      out.push_back(std::move(token));
    }
    flush();
    tokens = std::move(out);
  }

private:
  static std::optional<unsigned> byte_token_value(const std::string& token) {
    if (token.size() != 6 || !token.starts_with("<0x") || token[5] != '>') {
      return std::nullopt;
    }
    unsigned value = 0;
    for (char c : token.substr(3, 2)) {
      int digit = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
      if (digit < 0) {
        return std::nullopt;
      }
      value = value * 16 + static_cast<unsigned>(digit);
    }
    return value;
  }
};

class Fuse final : public Decoder {
public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string joined;
    for (const std::string& token : tokens) {
      joined += token;
    }
    tokens.assign(1, std::move(joined));
  }
};

// Removes up to `start` leading and `stop` trailing `content` characters
// from every token.
class Strip final : public Decoder {
public:
  Strip(char32_t content, std::size_t start, std::size_t stop)
      : content_(content), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& token : tokens) {
      auto cps = code_points(token);
      std::size_t begin = 0;
      while (begin < std::min(start_, cps.size()) && cps[begin] == content_) {
        ++begin;
      }
      std::size_t end = cps.size();
      while (cps.size() - end < stop_ && end > begin &&
             cps[end - 1] == content_) {
        --end;
      }
      token = from_code_points(cps, begin, end);
    }
  }

private:
  char32_t content_;
  std::size_t start_, stop_;
};

class Replace final : public Decoder {
public:
  Replace(RegexSplitter pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& token : tokens) {
      token = pattern_.replace_all(token, content_);
    }
  }

private:
  RegexSplitter pattern_;
  std::string content_;
};

// The replacement character becomes a space, except in the first token,
// where HF drops it when a prefix was prepended while encoding.
class Metaspace final : public Decoder {
public:
  Metaspace(std::string replacement, bool drop_in_first)
      : replacement_(std::move(replacement)), drop_in_first_(drop_in_first) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& token = tokens[i];
      for (std::size_t pos = 0; pos < token.size();) {
        if (token.compare(pos, replacement_.size(), replacement_) == 0) {
          if (!(i == 0 && drop_in_first_)) {
            out += ' ';
          }
          pos += replacement_.size();
        } else {
          out += token[pos++];
        }
      }
      tokens[i] = std::move(out);
    }
  }

private:
  std::string replacement_;
  bool drop_in_first_;
};

class Sequence final : public Decoder {
public:
  explicit Sequence(std::vector<std::unique_ptr<Decoder>> steps)
      : steps_(std::move(steps)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& step : steps_) {
      step->decode_chain(tokens);
    }
  }

private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

// A field that must hold exactly one character.
char32_t char_field(const json& spec,
                    const std::string& name,
                    const std::string& file,
                    const std::string& key) {
  const std::string& text = string_field(spec, name, file, key);
  if (text.empty() || utf8_sequence_length(text, 0) != text.size()) {
    fail_invalid(file, key, "expected a single character");
  }
  return utf8_decode(text, 0, text.size());
}

std::size_t size_field(const json& spec,
                       const std::string& name,
                       const std::string& file,
                       const std::string& key) {
  int value = int_field(spec, name, file, key);
  if (value < 0) {
    fail_invalid(file, key, "expected a non-negative integer");
  }
  return static_cast<std::size_t>(value);
}

std::unique_ptr<Decoder> make_metaspace(const json& spec,
                                        const std::string& file,
                                        const std::string& key) {
  std::string replacement = "\xE2\x96\x81"; // U+2581
  if (optional_field(spec, "replacement") != nullptr) {
    replacement = utf8_encode(
        char_field(spec, "replacement", file, key + ".replacement"));
  }
  bool drop_in_first = bool_field_or(
      spec, "add_prefix_space", true, file, key + ".add_prefix_space");
  if (const json* scheme = optional_field(spec, "prepend_scheme")) {
    drop_in_first =
        as_string(*scheme, file, key + ".prepend_scheme") != "never";
  }
  return std::make_unique<Metaspace>(replacement, drop_in_first);
}

} // namespace

std::unique_ptr<Decoder> make_decoder(const json& spec,
                                      const std::string& file,
                                      const std::string& key) {
  static const ComponentKind<Decoder> kind{
      .noun = "decoder",
      .list_name = "decoders",
      .types = {
          {"ByteLevel", [](auto&...) { return std::make_unique<ByteLevel>(); }},
          {"Metaspace", make_metaspace},
          {"ByteFallback",
           [](auto&...) { return std::make_unique<ByteFallback>(); }},
          {"Fuse", [](auto&...) { return std::make_unique<Fuse>(); }},
          {"Strip",
           [](auto& spec, auto& file, auto& key) {
             return std::make_unique<Strip>(
                 char_field(spec, "content", file, key + ".content"),
                 size_field(spec, "start", file, key + ".start"),
                 size_field(spec, "stop", file, key + ".stop"));
           }},
          {"Replace",
           [](auto& spec, auto& file, auto& key) {
             return std::make_unique<Replace>(
                 parse_pattern(spec, file, key),
                 string_field(spec, "content", file, key + ".content"));
           }},
      }};
  return make_component<Sequence>(kind, spec, file, key);
}

} // namespace mlxt::tokenizer::detail
