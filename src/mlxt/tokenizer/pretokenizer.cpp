#include "mlxt/tokenizer/pretokenizer.h"

#include "mlxt/tokenizer/byte_level.h"
#include "mlxt/tokenizer/json_fields.h"

namespace mlxt::tokenizer::detail {

namespace {

// A literal string as an Oniguruma pattern (Split's {"String": ...} form).
std::string escape_regex(const std::string& literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-/").find(c) !=
        std::string_view::npos) {
      out += '\\';
    }
    out += c;
  }
  return out;
}

RegexSplitter parse_split_pattern(const json& step,
                                  const std::string& file,
                                  const std::string& key) {
  const json& pattern = require_field(step, "pattern", file, key + ".pattern");
  if (const json* regex = optional_field(pattern, "Regex")) {
    return RegexSplitter(as_string(*regex, file, key + ".pattern.Regex"),
                         where(file, key + ".pattern.Regex"));
  }
  if (const json* literal = optional_field(pattern, "String")) {
    return RegexSplitter(
        escape_regex(as_string(*literal, file, key + ".pattern.String")),
        where(file, key + ".pattern.String"));
  }
  fail_invalid(
      file, key + ".pattern", "expected {\"Regex\": ...} or {\"String\": ...}");
}

} // namespace

PreTokenizer PreTokenizer::gpt2() {
  PreTokenizer out;
  out.steps_.push_back(
      {.splitter = RegexSplitter(kGpt2SplitPattern, where("", "gpt2 pattern")),
       .add_prefix_space = false});
  return out;
}

PreTokenizer PreTokenizer::from_json(const json& spec,
                                     const std::string& file) {
  const std::string root = "pre_tokenizer";
  if (spec.is_null()) {
    fail_unsupported(
        file,
        root,
        "a null pre_tokenizer is not supported; this version handles "
        "byte-level BPE (ByteLevel, or Sequence of Split + ByteLevel)");
  }
  std::vector<std::pair<const json*, std::string>> parts;
  const std::string& type = as_string(
      require_field(spec, "type", file, root + ".type"), file, root + ".type");
  if (type == "Sequence") {
    const json& list =
        require_field(spec, "pretokenizers", file, root + ".pretokenizers");
    if (!list.is_array()) {
      fail_invalid(file, root + ".pretokenizers", "expected an array");
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      parts.emplace_back(&list[i],
                         root + ".pretokenizers[" + std::to_string(i) + "]");
    }
  } else {
    parts.emplace_back(&spec, root);
  }

  PreTokenizer out;
  bool saw_byte_level = false;
  for (const auto& [step, key] : parts) {
    const std::string& step_type = as_string(
        require_field(*step, "type", file, key + ".type"), file, key + ".type");
    if (saw_byte_level) {
      fail_unsupported(
          file,
          key + ".type",
          "a \"" + step_type +
              "\" step after ByteLevel is not supported; ByteLevel must be "
              "the last pre-tokenizer");
    }
    if (step_type == "Split") {
      const std::string& behavior =
          as_string(require_field(*step, "behavior", file, key + ".behavior"),
                    file,
                    key + ".behavior");
      if (behavior != "Isolated") {
        fail_unsupported(file,
                         key + ".behavior",
                         "Split behavior \"" + behavior +
                             "\" is not supported; only \"Isolated\" is");
      }
      if (bool_field_or(*step, "invert", false, file, key + ".invert")) {
        fail_unsupported(
            file, key + ".invert", "inverted Split is not supported");
      }
      out.steps_.push_back({.splitter = parse_split_pattern(*step, file, key)});
    } else if (step_type == "ByteLevel") {
      Step byte_level;
      byte_level.add_prefix_space = bool_field_or(
          *step, "add_prefix_space", true, file, key + ".add_prefix_space");
      if (bool_field_or(*step, "use_regex", true, file, key + ".use_regex")) {
        byte_level.splitter =
            RegexSplitter(kGpt2SplitPattern, where(file, key));
      }
      out.steps_.push_back(std::move(byte_level));
      saw_byte_level = true;
    } else {
      fail_unsupported(
          file,
          key + ".type",
          "pre-tokenizer \"" + step_type +
              "\" is not supported; supported: ByteLevel, Split, Sequence");
    }
  }
  if (!saw_byte_level) {
    fail_unsupported(
        file,
        root,
        "pre-tokenizers without a ByteLevel step are not supported; this "
        "version handles byte-level BPE only");
  }
  return out;
}

std::vector<std::string> PreTokenizer::split(std::string_view text) const {
  std::vector<std::string> pieces;
  if (!text.empty()) {
    pieces.emplace_back(text);
  }
  for (std::size_t s = 0; s < steps_.size(); ++s) {
    const Step& step = steps_[s];
    bool is_byte_level = s + 1 == steps_.size();
    std::vector<std::string> next;
    next.reserve(pieces.size());
    for (std::string& piece : pieces) {
      // HF's ByteLevel adds the prefix space to every piece it receives,
      // not only to the start of the text.
      if (is_byte_level && step.add_prefix_space && piece.front() != ' ') {
        piece.insert(piece.begin(), ' ');
      }
      if (step.splitter) {
        for (std::string_view part : step.splitter->split_isolated(piece)) {
          next.emplace_back(part);
        }
      } else {
        next.push_back(std::move(piece));
      }
    }
    pieces = std::move(next);
  }
  for (std::string& piece : pieces) {
    piece = bytes_to_symbols(piece);
  }
  return pieces;
}

} // namespace mlxt::tokenizer::detail
