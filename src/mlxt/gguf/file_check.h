// A bounds-checked walk over a GGUF file's header (magic, version, metadata,
// tensor infos) before MLX's loader maps it: MLX reads the file through raw
// pointers, so a truncated or corrupt file must be refused here, with an
// error that names the file and what is wrong, instead of crashing it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <mlx/mlx.h>

namespace mlxt::gguf {

namespace mx = mlx::core;

struct TensorInfo {
  std::string name;
  uint32_t type = 0;   // ggml type id (0 F32, 1 F16, 2 Q4_0, 3 Q4_1, 8 Q8_0)
  mx::Shape shape;     // MLX order (outermost first), the reverse of ggml's
  uint64_t offset = 0; // from the start of the data section
};

struct FileInfo {
  uint32_t version = 0;
  std::string architecture; // general.architecture ("" when absent)
  std::vector<TensorInfo> tensors;
};

//! The name of a ggml tensor type ("Q4_1"), or "type <id>" when unknown.
std::string ggml_type_name(uint32_t type);

//! Checks `path` and lists its tensors. Throws Error(not_found) for a missing
//! file, Error(invalid_model) naming the file and the key or tensor for a bad
//! magic, an unsupported version, a value or tensor running past the end
//! (truncation), and Error(unsupported) naming the tensor for a tensor type
//! other than F32, F16, Q4_0, Q4_1 and Q8_0.
FileInfo check_gguf_file(const std::filesystem::path& path);

} // namespace mlxt::gguf
