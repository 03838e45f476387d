// Config sources other than YAML: JSON files and already parsed JSON
// objects, plus the file reading and key-location helpers they share.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "mlxt/config/document.h"

namespace mlxt::config::detail {

using nlohmann::json;

std::string read_config_text(const std::filesystem::path& file) {
  std::error_code error;
  if (!std::filesystem::exists(file, error)) {
    fail(ErrorCode::not_found,
         "config file not found",
         file_context(file.string()));
  }
  if (std::filesystem::is_directory(file, error)) {
    fail(ErrorCode::invalid_config,
         "is a folder; expected a .yaml or .json file",
         file_context(file.string()));
  }
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  if (!in.is_open() || !(text << in.rdbuf())) {
    // An empty file also lands here (nothing was copied); it is valid.
    if (in.is_open() && std::filesystem::file_size(file, error) == 0) {
      return "";
    }
    fail(ErrorCode::io,
         "cannot read the config file",
         file_context(file.string()));
  }
  return text.str();
}

ConfigDocument document_from_json(const json& object,
                                  const std::string& source) {
  if (!object.is_object()) {
    fail(ErrorCode::invalid_config,
         "expected a JSON object of keys, got " +
             std::string(object.type_name()),
         file_context(source));
  }
  ConfigDocument document;
  document.source = source;
  document.values = object;
  return document;
}

ConfigDocument read_json_config(const std::filesystem::path& file) {
  std::string text = read_config_text(file);
  json object;
  try {
    object = json::parse(text);
  } catch (const json::out_of_range& e) {
    // A number past double's range (no byte offset is reported).
    fail(ErrorCode::invalid_config,
         std::string("malformed JSON: ") + e.what(),
         file_context(file.string()));
  } catch (const json::parse_error& e) {
    // nlohmann reports a byte offset; people want the line.
    std::size_t end = std::min<std::size_t>(e.byte, text.size());
    long line = 1 + std::count(text.begin(), text.begin() + end, '\n');
    fail(ErrorCode::invalid_config,
         std::string("malformed JSON: ") + e.what(),
         file_context(file.string(), line));
  }
  return document_from_json(object, file.string());
}

ErrorContext where(const ConfigDocument& document, const std::string& key) {
  // The key itself or the nearest enclosing key that has a record.
  std::string probe = key;
  while (true) {
    if (document.from_command_line.count(probe)) {
      return file_context(command_line_source, 0, key);
    }
    auto line = document.lines.find(probe);
    if (line != document.lines.end()) {
      return file_context(document.source, line->second, key);
    }
    auto cut = probe.find_last_of(".[");
    if (cut == std::string::npos) {
      return file_context(document.source, 0, key);
    }
    probe.resize(cut);
  }
}

} // namespace mlxt::config::detail
