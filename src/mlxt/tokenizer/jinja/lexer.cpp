#include "mlxt/tokenizer/jinja/lexer.h"

#include <algorithm>
#include <cstring>

#include "mlxt/tokenizer/jinja/fault.h"
#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer::jinja {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

long count_newlines(std::string_view s) {
  return static_cast<long>(std::count(s.begin(), s.end(), '\n'));
}

// jinja2 treats \r\n, \r and \n alike and, without keep_trailing_newline,
// drops one newline at the very end of the template.
std::string normalize(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r') {
      out += '\n';
      if (i + 1 < raw.size() && raw[i + 1] == '\n') {
        ++i;
      }
    } else {
      out += raw[i];
    }
  }
  if (!out.empty() && out.back() == '\n') {
    out.pop_back();
  }
  return out;
}

// Python string-literal escapes, as jinja2 decodes them ("unicode-escape").
std::string unescape(std::string_view body, long line) {
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 == body.size()) {
      out += c;
      continue;
    }
    char e = body[++i];
    auto hex = [&](int digits) {
      if (i + static_cast<std::size_t>(digits) >= body.size()) {
        throw Fault(
            FaultKind::syntax, "truncated \\x/\\u escape in a string", line);
      }
      char32_t cp = 0;
      for (int k = 0; k < digits; ++k) {
        char h = body[i + 1 + k];
        int v = is_digit(h)              ? h - '0'
                : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                         : -1;
        if (v < 0) {
          throw Fault(
              FaultKind::syntax, "bad \\x/\\u escape in a string", line);
        }
        cp = cp * 16 + static_cast<char32_t>(v);
      }
      i += digits;
      if (cp > 0x10FFFF) {
        throw Fault(FaultKind::syntax, "\\U escape out of range", line);
      }
      out += detail::utf8_encode(cp);
    };
    switch (e) {
    case '\n':
      break;
    case '\\':
    case '\'':
    case '"':
      out += e;
      break;
    case 'n':
      out += '\n';
      break;
    case 't':
      out += '\t';
      break;
    case 'r':
      out += '\r';
      break;
    case 'b':
      out += '\b';
      break;
    case 'f':
      out += '\f';
      break;
    case 'v':
      out += '\v';
      break;
    case 'a':
      out += '\a';
      break;
    case 'x':
      hex(2);
      break;
    case 'u':
      hex(4);
      break;
    case 'U':
      hex(8);
      break;
    default:
      if (e >= '0' && e <= '7') {
        int v = e - '0';
        for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' &&
                        body[i + 1] <= '7';
             ++k) {
          v = v * 8 + (body[++i] - '0');
        }
        out += detail::utf8_encode(static_cast<char32_t>(v));
      } else {
        out += '\\';
        out += e;
      }
    }
  }
  return out;
}

const char* const kOperators[] = {
    "//", "**", "==", "!=", "<=", ">=", "+", "-", "/", "*", "%", "~", "[",
    "]",  "(",  ")",  "{",  "}",  "<",  ">", "=", ".", ":", "|", ",", ";"};

class Lexer {
public:
  explicit Lexer(std::string_view raw) : src_(normalize(raw)) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) {
      std::size_t tag = next_tag(pos_);
      if (tag == std::string::npos) {
        emit_text(src_.substr(pos_));
        break;
      }
      char kind = src_[tag + 1];
      char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      if (sign != '-' && sign != '+') {
        sign = '\0';
      }
      std::size_t raw_body = kind == '%' ? raw_begin_end(tag) : 0;
      std::string text = src_.substr(pos_, tag - pos_);
      emit_text(strip_before(std::move(text), sign, kind != '{'));
      line_ += count_newlines(std::string_view(src_).substr(pos_, tag - pos_));
      line_starting_ = false;
      pos_ = tag + 2 + (sign != '\0' ? 1 : 0);
      if (raw_body != 0) {
        lex_raw(raw_body);
      } else if (kind == '#') {
        lex_comment();
      } else {
        lex_tag(kind == '{');
      }
    }
    tokens_.push_back({TokenType::eof, "", line_});
    return std::move(tokens_);
  }

private:
  std::size_t next_tag(std::size_t from) const {
    for (std::size_t i = src_.find('{', from); i != std::string::npos;
         i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() &&
          (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) {
        return i;
      }
    }
    return std::string::npos;
  }

  // `-` strips all whitespace before the tag; otherwise lstrip_blocks strips
  // spaces between the line start and a block or comment tag.
  std::string strip_before(std::string text, char sign, bool lstrip) const {
    if (sign == '-') {
      std::size_t end = text.size();
      while (end > 0 && is_space(text[end - 1])) {
        --end;
      }
      text.resize(end);
    } else if (sign != '+' && lstrip) {
      std::size_t l_pos = text.rfind('\n');
      l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
      if ((l_pos > 0 || line_starting_) && l_pos < text.size() &&
          std::all_of(text.begin() + l_pos, text.end(), is_space)) {
        text.resize(l_pos);
      }
    }
    return text;
  }

  void emit_text(std::string text) {
    if (!text.empty()) {
      tokens_.push_back({TokenType::text, std::move(text), line_});
    }
  }

  // After a block or comment end: `-` eats all whitespace, `+` nothing, and
  // trim_blocks one newline.
  void after_end(char sign, bool trim) {
    std::size_t start = pos_;
    if (sign == '-') {
      while (pos_ < src_.size() && is_space(src_[pos_])) {
        ++pos_;
      }
    } else if (sign != '+' && trim && pos_ < src_.size() &&
               src_[pos_] == '\n') {
      ++pos_;
    }
    line_ += count_newlines(std::string_view(src_).substr(start, pos_ - start));
    line_starting_ = pos_ > 0 && src_[pos_ - 1] == '\n';
  }

  void lex_comment() {
    std::size_t end = src_.find("#}", pos_);
    if (end == std::string::npos) {
      throw Fault(FaultKind::syntax, "missing end of comment tag '#}'", line_);
    }
    char sign = end > pos_ && (src_[end - 1] == '-' || src_[end - 1] == '+')
                    ? src_[end - 1]
                    : '\0';
    line_ += count_newlines(std::string_view(src_).substr(pos_, end - pos_));
    pos_ = end + 2;
    after_end(sign, true);
  }

  // If the block tag at `tag` is `{% raw %}`, the offset just past it.
  std::size_t raw_begin_end(std::size_t tag) const {
    std::size_t p = tag + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) {
      ++p;
    }
    while (p < src_.size() && is_space(src_[p])) {
      ++p;
    }
    if (src_.compare(p, 3, "raw") != 0) {
      return 0;
    }
    p += 3;
    while (p < src_.size() && is_space(src_[p])) {
      ++p;
    }
    if (src_.compare(p, 3, "-%}") == 0) {
      p += 3;
      while (p < src_.size() && is_space(src_[p])) {
        ++p;
      }
      return p;
    }
    return src_.compare(p, 2, "%}") == 0 ? p + 2 : 0;
  }

  void lex_raw(std::size_t body) {
    line_ += count_newlines(std::string_view(src_).substr(pos_, body - pos_));
    for (std::size_t tag = src_.find("{%", body); tag != std::string::npos;
         tag = src_.find("{%", tag + 1)) {
      std::size_t p = tag + 2;
      char sign = '\0';
      if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) {
        sign = src_[p++];
      }
      while (p < src_.size() && is_space(src_[p])) {
        ++p;
      }
      if (src_.compare(p, 6, "endraw") != 0) {
        continue;
      }
      p += 6;
      while (p < src_.size() && is_space(src_[p])) {
        ++p;
      }
      char end_sign = '\0';
      if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) {
        end_sign = src_[p++];
      }
      if (src_.compare(p, 2, "%}") != 0) {
        continue;
      }
      line_starting_ = body > 0 && src_[body - 1] == '\n';
      emit_text(strip_before(src_.substr(body, tag - body), sign, true));
      line_ += count_newlines(std::string_view(src_).substr(body, p - body));
      pos_ = p + 2;
      after_end(end_sign, true);
      return;
    }
    throw Fault(FaultKind::syntax, "missing end of raw directive", line_);
  }

  void lex_tag(bool variable) {
    tokens_.push_back(
        {variable ? TokenType::var_begin : TokenType::block_begin, "", line_});
    int balance = 0;
    while (true) {
      while (pos_ < src_.size() && is_space(src_[pos_])) {
        line_ += src_[pos_] == '\n';
        ++pos_;
      }
      if (pos_ >= src_.size()) {
        throw Fault(FaultKind::syntax,
                    std::string("unexpected end of template, expected '") +
                        (variable ? "}}" : "%}") + "'",
                    line_);
      }
      if (balance == 0 && end_of_tag(variable)) {
        return;
      }
      char c = src_[pos_];
      if (is_name_start(c)) {
        std::size_t start = pos_;
        while (pos_ < src_.size() &&
               (is_name_start(src_[pos_]) || is_digit(src_[pos_]))) {
          ++pos_;
        }
        tokens_.push_back(
            {TokenType::name, src_.substr(start, pos_ - start), line_});
      } else if (is_digit(c)) {
        lex_number();
      } else if (c == '\'' || c == '"') {
        lex_string(c);
      } else {
        lex_operator(balance);
      }
    }
  }

  bool end_of_tag(bool variable) {
    const char* end = variable ? "}}" : "%}";
    char sign = '\0';
    std::size_t p = pos_;
    if (src_[p] == '-' || (!variable && src_[p] == '+')) {
      if (src_.compare(p + 1, 2, end) != 0) {
        return false;
      }
      sign = src_[p++];
    } else if (src_.compare(p, 2, end) != 0) {
      return false;
    }
    tokens_.push_back(
        {variable ? TokenType::var_end : TokenType::block_end, "", line_});
    pos_ = p + 2;
    after_end(sign, !variable);
    return true;
  }

  void lex_number() {
    std::size_t start = pos_;
    auto digits = [&] {
      while (pos_ < src_.size() &&
             (is_digit(src_[pos_]) ||
              (src_[pos_] == '_' && pos_ + 1 < src_.size() &&
               is_digit(src_[pos_ + 1])))) {
        ++pos_;
      }
    };
    digits();
    bool is_float = false;
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' &&
        is_digit(src_[pos_ + 1])) {
      ++pos_;
      digits();
      is_float = true;
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      std::size_t p = pos_ + 1;
      if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) {
        ++p;
      }
      if (p < src_.size() && is_digit(src_[p])) {
        pos_ = p;
        digits();
        is_float = true;
      }
    }
    std::string text;
    for (char ch : src_.substr(start, pos_ - start)) {
      if (ch != '_') {
        text += ch;
      }
    }
    tokens_.push_back(
        {is_float ? TokenType::floating : TokenType::integer, text, line_});
  }

  void lex_string(char quote) {
    long start_line = line_;
    std::size_t p = pos_ + 1;
    while (p < src_.size() && src_[p] != quote) {
      if (src_[p] == '\\') {
        ++p;
      }
      ++p;
    }
    if (p >= src_.size()) {
      throw Fault(FaultKind::syntax, "unterminated string literal", line_);
    }
    std::string_view body =
        std::string_view(src_).substr(pos_ + 1, p - pos_ - 1);
    line_ += count_newlines(body);
    tokens_.push_back(
        {TokenType::string, unescape(body, start_line), start_line});
    pos_ = p + 1;
  }

  void lex_operator(int& balance) {
    for (const char* op : kOperators) {
      std::size_t len = std::strlen(op);
      if (src_.compare(pos_, len, op) == 0) {
        if (len == 1 && std::strchr("([{", op[0])) {
          ++balance;
        } else if (len == 1 && std::strchr(")]}", op[0])) {
          if (balance == 0) {
            throw Fault(FaultKind::syntax,
                        std::string("unexpected '") + op + "'",
                        line_);
          }
          --balance;
        }
        tokens_.push_back({TokenType::op, op, line_});
        pos_ += len;
        return;
      }
    }
    throw Fault(FaultKind::syntax,
                std::string("unexpected character '") + src_[pos_] + "'",
                line_);
  }

  std::string src_;
  std::size_t pos_ = 0;
  long line_ = 1;
  bool line_starting_ = true;
  std::vector<Token> tokens_;
};

} // namespace

std::vector<Token> tokenize(std::string_view source) {
  return Lexer(source).run();
}

} // namespace mlxt::tokenizer::jinja
