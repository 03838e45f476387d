// Command-line overrides: `--key value` strings parsed by the key's type and
// set in the document before it is checked, so they obey the same rules.
#include <algorithm>
#include <charconv>

#include "mlxt/config/document.h"
#include "mlxt/config/registry.h"

namespace mlxt::config::detail {

using nlohmann::json;

namespace {

std::string trim(std::string_view text) {
  auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return "";
  }
  auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

std::optional<json> parse_integer(const std::string& text) {
  long long value = 0;
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return json(value);
}

std::optional<json> parse_number(const std::string& text) {
  double value = 0;
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return json(value);
}

// "a,b" or a JSON array "[...]"; elements are converted by `element`
// (nullopt: not of the element type).
template <class ParseElement>
std::optional<json> parse_list(const std::string& text, ParseElement element) {
  if (!text.empty() && text.front() == '[') {
    json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
      return std::nullopt;
    }
    return value; // element types are checked with the document
  }
  json out = json::array();
  if (trim(text).empty()) {
    return out;
  }
  std::size_t start = 0;
  while (true) {
    std::size_t comma = text.find(',', start);
    auto parsed = element(trim(text.substr(start, comma - start)));
    if (!parsed) {
      return std::nullopt;
    }
    out.push_back(*parsed);
    if (comma == std::string::npos) {
      return out;
    }
    start = comma + 1;
  }
}

// The text of an override as a JSON value of the key's type, or nullopt
// when it cannot be read as one. "null" restores the default of a
// non-string key.
std::optional<json> parse_override(const KeySpec& key,
                                   const std::string& text) {
  if (text == "null" && key.type != KeyType::string &&
      key.type != KeyType::string_list) {
    return json(nullptr);
  }
  switch (key.type) {
  case KeyType::integer:
    return parse_integer(text);
  case KeyType::number:
    return parse_number(text);
  case KeyType::boolean:
    if (text == "true" || text == "false") {
      return json(text == "true");
    }
    return std::nullopt;
  case KeyType::string:
    return json(text);
  case KeyType::string_list:
    return parse_list(text, [](const std::string& s) -> std::optional<json> {
      return json(s);
    });
  case KeyType::number_list:
    return parse_list(text, parse_number);
  case KeyType::object: {
    json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded() || !value.is_object()) {
      return std::nullopt;
    }
    return value;
  }
  }
  return std::nullopt;
}

std::string expected(KeyType type) {
  switch (type) {
  case KeyType::integer:
    return "an integer";
  case KeyType::number:
    return "a number";
  case KeyType::boolean:
    return "true or false";
  case KeyType::string:
    return "a string";
  case KeyType::string_list:
    return "a comma-separated list or a JSON array of strings";
  case KeyType::number_list:
    return "a comma-separated list or a JSON array of numbers";
  case KeyType::object:
    return "a JSON object";
  }
  return "a value";
}

std::vector<std::string> split_dotted(const std::string& key) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot - start));
    if (dot == std::string::npos) {
      return parts;
    }
    start = dot + 1;
  }
}

void set_path(json& root, const std::string& key, json value) {
  json* node = &root;
  auto parts = split_dotted(key);
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    json& child = (*node)[parts[i]];
    if (!child.is_object()) {
      child = json::object(); // replaces null or a wrongly typed value
    }
    node = &child;
  }
  (*node)[parts.back()] = std::move(value);
}

void erase_path(json& root, const std::string& key) {
  json* node = &root;
  auto parts = split_dotted(key);
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!node->is_object() || !node->contains(parts[i])) {
      return;
    }
    node = &(*node)[parts[i]];
  }
  if (node->is_object()) {
    node->erase(parts.back());
  }
}

// Drops what the document recorded about `key` and its members.
void forget(ConfigDocument& document, const std::string& key) {
  auto is_under = [&key](const std::string& other) {
    return other == key || other.rfind(key + ".", 0) == 0 ||
           other.rfind(key + "[", 0) == 0;
  };
  std::erase_if(document.lines,
                [&](const auto& entry) { return is_under(entry.first); });
  std::erase_if(document.from_command_line, is_under);
}

// An override replaces every other spelling of what it sets, the keys that
// set nothing it does not: the key it aliases, its aliases (beta1 and beta2
// for `--betas`; not the top-level `betas` for `--optimizer_config.adamw.
// betas`, as that also sets adam's), and the keys it declares it replaces.
void erase_other_spellings(ConfigDocument& document, const KeySpec& key) {
  const std::vector<std::string> mine = settings_of(key);
  auto is_mine = [&mine](const std::string& setting) {
    return std::find(mine.begin(), mine.end(), setting) != mine.end();
  };
  for (const auto& other : config_keys()) {
    if (other.name == key.name) {
      continue;
    }
    const std::vector<std::string> theirs = settings_of(other);
    bool same_setting =
        std::all_of(theirs.begin(), theirs.end(), is_mine) ||
        std::find(key.replaces.begin(), key.replaces.end(), other.name) !=
            key.replaces.end();
    if (same_setting) {
      erase_path(document.values, other.name);
      forget(document, other.name);
    }
  }
}

} // namespace

void apply_overrides(ConfigDocument& document,
                     const std::vector<ConfigOverride>& overrides,
                     std::vector<ConfigProblem>& problems) {
  for (const auto& override : overrides) {
    std::string name = override.key;
    std::replace(name.begin(), name.end(), '-', '_');
    ErrorContext context = file_context(command_line_source, 0, name);
    const KeySpec* key = find_key(name);
    if (key == nullptr) {
      std::string suggestion = closest_key(name);
      problems.push_back(
          {context,
           "unknown key" + (suggestion.empty()
                                ? std::string()
                                : "; did you mean '" + suggestion + "'?")});
      continue;
    }
    if (key->role == KeyRole::ignored) {
      continue;
    }
    auto value = parse_override(*key, override.value);
    if (!value) {
      problems.push_back({context,
                          "expected " + expected(key->type) + ", got " +
                              json(override.value).dump()});
      continue;
    }
    erase_other_spellings(document, *key);
    forget(document, name);
    set_path(document.values, name, std::move(*value));
    document.from_command_line.insert(name);
  }
}

} // namespace mlxt::config::detail
