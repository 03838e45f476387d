#include "mlxt/tokenizer/regex_splitter.h"

#include <oniguruma.h>

#include <algorithm>
#include <mutex>

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

std::vector<std::string_view>
RegexSplitter::split_isolated(std::string_view text) const {
  std::vector<std::string_view> pieces;
  auto begin = reinterpret_cast<const OnigUChar*>(text.data());
  auto end = begin + text.size();
  std::unique_ptr<OnigRegion, void (*)(OnigRegion*)> region(
      onig_region_new(), [](OnigRegion* r) { onig_region_free(r, 1); });
  std::size_t emitted = 0; // text before this offset is already in pieces
  std::size_t search_from = 0;
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
    if (match_end == match_begin) {
      // An empty match cuts nothing; step over one character and go on.
      if (match_begin >= text.size()) {
        break;
      }
      std::size_t step = utf8_sequence_length(text, match_begin);
      search_from = match_begin + std::max<std::size_t>(step, 1);
      continue;
    }
    if (match_begin > emitted) {
      pieces.push_back(text.substr(emitted, match_begin - emitted));
    }
    pieces.push_back(text.substr(match_begin, match_end - match_begin));
    emitted = match_end;
    search_from = match_end;
  }
  if (emitted < text.size()) {
    pieces.push_back(text.substr(emitted));
  }
  return pieces;
}

} // namespace mlxt::tokenizer::detail
