// Fuzz input -> a file the readers can open (they read files, not memory).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace mlxt::fuzz {

//! Writes `data` to a per-process file with `extension` and returns its path.
inline std::string
write_input(const uint8_t* data, size_t size, const std::string& extension) {
  const std::string path =
      "/tmp/mlxt-fuzz-" + std::to_string(getpid()) + extension;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

} // namespace mlxt::fuzz
