// Typed access to a GGUF file's metadata (the key/value pairs MLX's
// load_gguf returns as GGUFMetaData variants). Every getter names the key
// and the file when a value is missing or of the wrong kind.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <mlx/mlx.h>

namespace mlxt::gguf {

namespace mx = mlx::core;

class Metadata {
public:
  Metadata(std::unordered_map<std::string, mx::GGUFMetaData> values,
           std::string source)
      : values_(std::move(values)), source_(std::move(source)) {}

  bool contains(const std::string& key) const;
  //! A scalar integer (any integer type); nullopt when absent.
  std::optional<long long> get_int(const std::string& key) const;
  //! A positive integer that must be present.
  int require_int(const std::string& key) const;
  //! A scalar number; `fallback` when absent.
  float get_float(const std::string& key, float fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  std::optional<std::string> get_string(const std::string& key) const;
  std::string require_string(const std::string& key) const;
  const std::vector<std::string>& require_strings(const std::string& key) const;
  //! A 1-D numeric array, as int32 values.
  std::vector<int> require_ints(const std::string& key) const;

  //! The file the metadata came from, for messages.
  const std::string& source() const { return source_; }

private:
  const mx::array* scalar(const std::string& key) const;
  [[noreturn]] void wrong(const std::string& key,
                          const std::string& expected) const;

  std::unordered_map<std::string, mx::GGUFMetaData> values_;
  std::string source_;
};

} // namespace mlxt::gguf
