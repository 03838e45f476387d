#include "mlxt/gguf/model_list.h"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "mlxt/core/error.h"
#include "mlxt/core/json_file.h"
#include "mlxt/core/safetensors.h"
#include "mlxt/gguf/file_check.h"

namespace mlxt::gguf {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The name with the most elements in `counts`.
std::string most_common(const std::map<std::string, long>& counts) {
  std::string best;
  long most = -1;
  for (const auto& [name, n] : counts) {
    if (n > most) {
      best = name;
      most = n;
    }
  }
  return best;
}

template <class Shape>
long elements(const Shape& shape) {
  long n = 1;
  for (auto d : shape) {
    n *= d;
  }
  return n;
}

// A model folder: architecture from config.json, parameter count and
// dtypes from the safetensors headers.
json describe_folder(const fs::path& dir) {
  json config = read_json_file(dir / "config.json");
  long parameters = 0;
  std::map<std::string, long> dtypes;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".safetensors") {
      continue;
    }
    for (const auto& t : read_safetensors_header(entry.path()).tensors) {
      const long n = elements(t.shape);
      parameters += n;
      dtypes[t.dtype] += n;
    }
  }
  json quantization = config.value("quantization", json());
  if (quantization.is_null()) {
    quantization = config.value("quantization_config", json());
  }
  return {{"name", dir.filename().string()},
          {"path", dir.string()},
          {"format", "folder"},
          {"architecture", config.value("model_type", "")},
          {"architectures", config.value("architectures", json::array())},
          {"parameters", parameters},
          {"dtype", most_common(dtypes)},
          {"quantization", quantization}};
}

json describe_gguf(const fs::path& file) {
  const FileInfo info = check_gguf_file(file);
  long parameters = 0;
  std::map<std::string, long> types;
  for (const auto& t : info.tensors) {
    const long n = elements(t.shape);
    parameters += n;
    types[ggml_type_name(t.type)] += n;
  }
  return {{"name", file.filename().string()},
          {"path", file.string()},
          {"format", "gguf"},
          {"architecture", info.architecture},
          {"parameters", parameters},
          {"dtype", most_common(types)},
          {"bytes", static_cast<long>(fs::file_size(file))}};
}

} // namespace

fs::path model_cache_dir() {
  if (const char* home = std::getenv("MLXT_HOME"); home && *home) {
    return fs::path(home) / "models";
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return fs::path(xdg) / "mlxt/models";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".cache/mlxt/models";
}

json list_models(const fs::path& dir) {
  json models = json::array();
  json problems = json::array();
  std::vector<fs::path> entries;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    entries.push_back(entry.path());
  }
  std::sort(entries.begin(), entries.end());
  for (const auto& path : entries) {
    const bool folder = fs::is_regular_file(path / "config.json");
    const bool gguf_file =
        path.extension() == ".gguf" && fs::is_regular_file(path);
    if (!folder && !gguf_file) {
      continue; // fetch's hidden temp folders, other files
    }
    try {
      models.push_back(folder ? describe_folder(path) : describe_gguf(path));
    } catch (const Error& e) {
      problems.push_back({{"path", path.string()}, {"error", e.what()}});
    }
  }
  return {{"folder", dir.string()}, {"models", models}, {"problems", problems}};
}

} // namespace mlxt::gguf
