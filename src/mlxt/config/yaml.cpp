// YAML config files → JSON values, remembering the line of every key.
// The only file that includes yaml-cpp.
#include <limits>
#include <regex>

// GCC 12 warns about yaml-cpp's own inline code (-Wdangling-pointer).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#include <yaml-cpp/yaml.h>
#pragma GCC diagnostic pop

#include "mlxt/config/document.h"

namespace mlxt::config::detail {

using nlohmann::json;

namespace {

bool tagged(const std::string& tag, const char* type) {
  return tag == std::string("!!") + type ||
         tag == std::string("tag:yaml.org,2002:") + type;
}

// Resolves an untagged plain scalar the way PyYAML (mlx-lm's loader) does,
// except that 1e-5 is a float here as in YAML 1.2 (PyYAML needs a dot).
json plain_scalar(const std::string& text) {
  static const std::regex null_words("~|null|Null|NULL|");
  static const std::regex true_words("true|True|TRUE|yes|Yes|YES|on|On|ON");
  static const std::regex false_words("false|False|FALSE|no|No|NO|off|Off|OFF");
  static const std::regex integer("[-+]?[0-9]+");
  static const std::regex hex("0x[0-9a-fA-F]+");
  static const std::regex decimal(
      "[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  static const std::regex infinity("([-+]?)\\.(inf|Inf|INF)");
  static const std::regex not_a_number("\\.(nan|NaN|NAN)");

  std::smatch match;
  if (std::regex_match(text, null_words)) {
    return nullptr;
  }
  if (std::regex_match(text, true_words)) {
    return true;
  }
  if (std::regex_match(text, false_words)) {
    return false;
  }
  try {
    if (std::regex_match(text, integer)) {
      return std::stoll(text);
    }
    if (std::regex_match(text, hex)) {
      return std::stoll(text, nullptr, 16);
    }
  } catch (const std::out_of_range&) {
    return std::stod(text); // too big for an integer: keep its magnitude
  }
  if (std::regex_match(text, decimal)) {
    return std::stod(text);
  }
  if (std::regex_match(text, match, infinity)) {
    double inf = std::numeric_limits<double>::infinity();
    return match[1] == "-" ? -inf : inf;
  }
  if (std::regex_match(text, not_a_number)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return text;
}

json scalar(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  const std::string& text = node.Scalar();
  if (tag == "!" || tagged(tag, "str")) {
    return text; // quoted, or explicitly a string
  }
  json value = plain_scalar(text);
  if (tagged(tag, "float") && value.is_number()) {
    return value.get<double>();
  }
  return value;
}

class YamlConverter {
public:
  explicit YamlConverter(ConfigDocument& document) : document_(document) {}

  json convert(const YAML::Node& node, const std::string& path) {
    switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar(node);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (std::size_t i = 0; i < node.size(); ++i) {
        std::string element = path + "[" + std::to_string(i) + "]";
        document_.lines[element] = node[i].Mark().line + 1;
        out.push_back(convert(node[i], element));
      }
      return out;
    }
    case YAML::NodeType::Map:
      return convert_map(node, path);
    }
    return nullptr;
  }

private:
  json convert_map(const YAML::Node& node, const std::string& path) {
    json out = json::object();
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node& key = it->first;
      long line = key.Mark().line + 1;
      if (!key.IsScalar()) {
        fail(ErrorCode::invalid_config,
             "a key must be a plain name, not a list or mapping",
             file_context(document_.source, line, path));
      }
      const std::string& name = key.Scalar();
      std::string dotted = path.empty() ? name : path + "." + name;
      if (out.contains(name)) {
        fail(ErrorCode::invalid_config,
             "given twice (first on line " +
                 std::to_string(document_.lines[dotted]) + ")",
             file_context(document_.source, line, dotted));
      }
      document_.lines[dotted] = line;
      out[name] = convert(it->second, dotted);
    }
    return out;
  }

  ConfigDocument& document_;
};

} // namespace

ConfigDocument read_yaml_config(const std::filesystem::path& file) {
  ConfigDocument document;
  document.source = file.string();
  std::string text = read_config_text(file);

  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    fail(ErrorCode::invalid_config,
         "malformed YAML: " + e.msg,
         file_context(document.source, e.mark.line + 1));
  }
  if (root.IsNull()) {
    return document; // an empty file: defaults only
  }
  if (!root.IsMap()) {
    fail(ErrorCode::invalid_config,
         "expected a mapping of keys at the top level",
         file_context(document.source, root.Mark().line + 1));
  }
  YamlConverter converter(document);
  document.values = converter.convert(root, "");
  return document;
}

} // namespace mlxt::config::detail
