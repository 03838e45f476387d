// Safetensors files: header validation, loading and atomic saving.
//
// Every file is validated before MLX reads it: header length within the file,
// the header is a JSON object, known dtypes, shapes of non-negative dims whose
// byte size (with overflow checks) equals end - begin, offsets inside the
// data section and non-overlapping. Errors are Error(invalid_model) naming
// the file and the tensor.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "mlxt/core/params.h"

namespace mlxt {

struct TensorInfo {
  std::string name;
  std::string dtype; // safetensors spelling: "F32", "BF16", ...
  std::vector<int64_t> shape;
  uint64_t begin = 0; // offsets within the data section
  uint64_t end = 0;
};

struct SafetensorsHeader {
  std::vector<TensorInfo> tensors;             // in header order
  std::map<std::string, std::string> metadata; // "__metadata__"
};

//! Reads and validates the header of `file` without loading tensor data.
SafetensorsHeader read_safetensors_header(const std::filesystem::path& file);

//! Validates `file`, then loads every tensor (lazily, through MLX).
Params load_safetensors_file(const std::filesystem::path& file);

//! Writes `params` to `file` atomically (temp file, fsync, rename, fsync of
//! the folder). Metadata goes into "__metadata__".
void save_safetensors_file(
    const std::filesystem::path& file,
    const Params& params,
    const std::map<std::string, std::string>& metadata = {});

} // namespace mlxt
