#include "mlxt/tokenizer/regex_splitter.h"

#include <oniguruma.h>

#include <algorithm>
#include <mutex>
#include <optional>

#include "mlxt/tokenizer/json_fields.h"
#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer::detail {

namespace {

void initialize_oniguruma() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

std::string onig_error_text(int code, OnigErrorInfo* info) {
  OnigUChar buffer[ONIG_MAX_ERROR_MESSAGE_LEN];
  onig_error_code_to_str(buffer, code, info);
  return reinterpret_cast<const char*>(buffer);
}

} // namespace

std::string escape_regex(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-/#&~").find(c) !=
        std::string_view::npos) {
      out += '\\';
    }
    out += c;
  }
  return out;
}

RegexSplitter parse_pattern(const json& spec,
                            const std::string& file,
                            const std::string& key) {
  const json& pattern = require_field(spec, "pattern", file, key + ".pattern");
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

struct RegexSplitter::Compiled {
  OnigRegex regex = nullptr;
  ~Compiled() {
    if (regex != nullptr) {
      onig_free(regex);
    }
  }
};

RegexSplitter::RegexSplitter(std::string_view pattern,
                             const ErrorContext& where) {
  initialize_oniguruma();
  auto compiled = std::make_shared<Compiled>();
  OnigErrorInfo info;
  auto begin = reinterpret_cast<const OnigUChar*>(pattern.data());
  // HF's onig crate compiles with the default (Ruby) syntax and no options.
  int code = onig_new(&compiled->regex,
                      begin,
                      begin + pattern.size(),
                      ONIG_OPTION_NONE,
                      ONIG_ENCODING_UTF8,
                      ONIG_SYNTAX_RUBY,
                      &info);
  if (code != ONIG_NORMAL) {
    fail(ErrorCode::invalid_model,
         "regex does not compile (" + onig_error_text(code, &info) +
             "): " + std::string(pattern),
         where);
  }
  compiled_ = std::move(compiled);
}

std::vector<SplitRange>
RegexSplitter::find_matches(std::string_view text) const {
  std::vector<SplitRange> ranges;
  if (text.empty()) {
    return ranges;
  }
  auto begin = reinterpret_cast<const OnigUChar*>(text.data());
  auto end = begin + text.size();
  std::unique_ptr<OnigRegion, void (*)(OnigRegion*)> region(
      onig_region_new(), [](OnigRegion* r) { onig_region_free(r, 1); });
  std::size_t previous = 0;    // end of the last range pushed
  std::size_t search_from = 0; // as the onig crate's FindMatches::last_end
  std::optional<std::size_t> last_match_end;
  while (search_from <= text.size()) {
    onig_region_clear(region.get());
    int at = onig_search(compiled_->regex,
                         begin,
                         end,
                         begin + search_from,
                         end,
                         region.get(),
                         ONIG_OPTION_NONE);
    if (at == ONIG_MISMATCH) {
      break;
    }
    if (at < 0) {
      // Oniguruma gave up (e.g. its backtracking limit); a partial split
      // would silently change the ids, so stop here instead.
      fail(ErrorCode::invalid_data,
           "pre-tokenizer regex failed on the text: " +
               onig_error_text(at, nullptr));
    }
    auto match_begin = static_cast<std::size_t>(region->beg[0]);
    auto match_end = static_cast<std::size_t>(region->end[0]);
    if (match_begin == match_end && last_match_end == match_end) {
      // The onig crate refuses an empty match right after the previous
      // match and steps over one character.
      search_from += search_from < text.size()
                         ? std::max<std::size_t>(
                               utf8_sequence_length(text, search_from), 1)
                         : 1;
      continue;
    }
    search_from = match_end;
    last_match_end = match_end;
    if (previous != match_begin) {
      ranges.push_back({previous, match_begin, false});
    }
    ranges.push_back({match_begin, match_end, true});
    previous = match_end;
  }
  if (previous != text.size()) {
    ranges.push_back({previous, text.size(), false});
  }
  return ranges;
}

std::vector<std::string_view>
RegexSplitter::split_isolated(std::string_view text) const {
  std::vector<std::string_view> pieces;
  for (const auto& range : find_matches(text)) {
    if (range.begin < range.end) {
      pieces.push_back(text.substr(range.begin, range.end - range.begin));
    }
  }
  return pieces;
}

std::string RegexSplitter::replace_all(std::string_view text,
                                       std::string_view content) const {
  std::string out;
  out.reserve(text.size());
  for (const auto& range : find_matches(text)) {
    if (range.is_match) {
      out += content;
    } else {
      out += text.substr(range.begin, range.end - range.begin);
    }
  }
  return out;
}

} // namespace mlxt::tokenizer::detail
