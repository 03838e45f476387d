#include "mlxt/gguf/file_check.h"

#include <cstring>
#include <fstream>
#include <map>

#include "mlxt/core/error.h"

namespace mlxt::gguf {

namespace fs = std::filesystem;

namespace {

// ggml type id -> {name, elements per block, bytes per block}; the types
// MLX's loader turns into arrays without changing their values.
struct TypeLayout {
  const char* name;
  uint64_t block;
  uint64_t block_bytes;
};

const std::map<uint32_t, TypeLayout>& supported_types() {
  static const std::map<uint32_t, TypeLayout> types = {
      {0, {"F32", 1, 4}},
      {1, {"F16", 1, 2}},
      {2, {"Q4_0", 32, 18}},
      {3, {"Q4_1", 32, 20}},
      {8, {"Q8_0", 32, 34}},
  };
  return types;
}

// GGUF metadata value types: 0..7 and 10..12 are fixed-size scalars.
uint64_t scalar_size(uint32_t type) {
  switch (type) {
  case 0: // uint8
  case 1: // int8
  case 7: // bool
    return 1;
  case 2: // uint16
  case 3: // int16
    return 2;
  case 4: // uint32
  case 5: // int32
  case 6: // float32
    return 4;
  case 10: // uint64
  case 11: // int64
  case 12: // float64
    return 8;
  default:
    return 0;
  }
}

constexpr uint32_t kString = 8;
constexpr uint32_t kArray = 9;

// A cursor over the file's bytes; every read checks the bounds.
class Reader {
public:
  Reader(std::vector<char> bytes, std::string file)
      : bytes_(std::move(bytes)), file_(std::move(file)) {}

  template <typename T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  std::string read_string(const std::string& what) {
    const uint64_t len = read<uint64_t>(what);
    need(len, what);
    std::string s(bytes_.data() + pos_, len);
    pos_ += len;
    return s;
  }

  void skip(uint64_t n, const std::string& what) {
    need(n, what);
    pos_ += n;
  }

  uint64_t pos() const { return pos_; }
  uint64_t size() const { return bytes_.size(); }
  const std::string& file() const { return file_; }

  [[noreturn]] void corrupt(const std::string& message,
                            const std::string& key) const {
    fail(ErrorCode::invalid_model,
         "not a valid GGUF file: " + message,
         {.file = file_, .key = key});
  }

private:
  void need(uint64_t n, const std::string& what) const {
    if (n > bytes_.size() - pos_) {
      corrupt("the file ends inside " + what + " (truncated? " +
                  std::to_string(bytes_.size()) + " bytes)",
              what);
    }
  }

  std::vector<char> bytes_;
  std::string file_;
  uint64_t pos_ = 0;
};

void skip_value(Reader& r, uint32_t type, const std::string& key) {
  if (type == kString) {
    r.read_string(key);
    return;
  }
  if (type == kArray) {
    const uint32_t item_type = r.read<uint32_t>(key);
    const uint64_t count = r.read<uint64_t>(key);
    if (item_type == kString) {
      for (uint64_t i = 0; i < count; ++i) {
        r.read_string(key);
      }
      return;
    }
    const uint64_t size = scalar_size(item_type);
    if (size == 0) {
      r.corrupt("array of unknown or nested value type " +
                    std::to_string(item_type),
                key);
    }
    if (count > (r.size() - r.pos()) / size) {
      r.corrupt("the file ends inside " + key + " (truncated?)", key);
    }
    r.skip(count * size, key);
    return;
  }
  const uint64_t size = scalar_size(type);
  if (size == 0) {
    r.corrupt("unknown value type " + std::to_string(type), key);
  }
  r.skip(size, key);
}

// Only the header is read; tensor data is checked against the file size.
std::vector<char> read_header_bytes(const fs::path& path, uint64_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fail(ErrorCode::io, "cannot open the file", {.file = path.string()});
  }
  std::vector<char> bytes(limit);
  in.read(bytes.data(), static_cast<std::streamsize>(limit));
  bytes.resize(static_cast<size_t>(in.gcount()));
  return bytes;
}

} // namespace

std::string ggml_type_name(uint32_t type) {
  static const std::map<uint32_t, const char*> names = {
      {0, "F32"},      {1, "F16"},     {2, "Q4_0"},     {3, "Q4_1"},
      {6, "Q5_0"},     {7, "Q5_1"},    {8, "Q8_0"},     {9, "Q8_1"},
      {10, "Q2_K"},    {11, "Q3_K"},   {12, "Q4_K"},    {13, "Q5_K"},
      {14, "Q6_K"},    {15, "Q8_K"},   {16, "IQ2_XXS"}, {17, "IQ2_XS"},
      {18, "IQ3_XXS"}, {19, "IQ1_S"},  {20, "IQ4_NL"},  {21, "IQ3_S"},
      {22, "IQ2_S"},   {23, "IQ4_XS"}, {24, "I8"},      {25, "I16"},
      {26, "I32"},     {27, "I64"},    {28, "F64"},     {29, "IQ1_M"},
      {30, "BF16"},
  };
  auto it = names.find(type);
  return it == names.end() ? "type " + std::to_string(type) : it->second;
}

FileInfo check_gguf_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    fail(ErrorCode::not_found, "GGUF file not found", {.file = path.string()});
  }
  const uint64_t file_size = fs::file_size(path);
  // Headers hold the vocabulary; 64 MiB covers every real one.
  Reader r(read_header_bytes(path, std::min<uint64_t>(file_size, 64 << 20)),
           path.string());
  const uint32_t magic = r.read<uint32_t>("magic");
  if (magic != 0x46554747) { // "GGUF", little-endian
    r.corrupt("bad magic (expected \"GGUF\")", "magic");
  }
  FileInfo info;
  info.version = r.read<uint32_t>("version");
  if (info.version != 2 && info.version != 3) {
    fail(ErrorCode::unsupported,
         "GGUF version " + std::to_string(info.version) +
             " is not supported (2 and 3 are)",
         {.file = path.string(), .key = "version"});
  }
  const uint64_t tensor_count = r.read<uint64_t>("tensor_count");
  const uint64_t kv_count = r.read<uint64_t>("metadata_kv_count");
  uint64_t alignment = 32;
  for (uint64_t i = 0; i < kv_count; ++i) {
    const std::string key = r.read_string("metadata key " + std::to_string(i));
    const uint32_t type = r.read<uint32_t>(key);
    if (key == "general.alignment" && type == 4) {
      alignment = r.read<uint32_t>(key);
      if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        r.corrupt("general.alignment must be a power of two", key);
      }
      continue;
    }
    if (key == "general.architecture" && type == 8) { // string
      info.architecture = r.read_string(key);
      continue;
    }
    skip_value(r, type, key);
  }
  for (uint64_t i = 0; i < tensor_count; ++i) {
    TensorInfo t;
    t.name = r.read_string("tensor info " + std::to_string(i));
    const uint32_t ndim = r.read<uint32_t>(t.name);
    if (ndim == 0 || ndim > 4) {
      r.corrupt("tensor has " + std::to_string(ndim) + " dimensions", t.name);
    }
    std::vector<uint64_t> dims(ndim);
    for (auto& d : dims) {
      d = r.read<uint64_t>(t.name);
      if (d == 0 || d > (1ULL << 31)) {
        r.corrupt("tensor dimension " + std::to_string(d) + " is invalid",
                  t.name);
      }
    }
    t.type = r.read<uint32_t>(t.name);
    t.offset = r.read<uint64_t>(t.name);
    for (auto d = dims.rbegin(); d != dims.rend(); ++d) {
      t.shape.push_back(static_cast<int>(*d));
    }
    info.tensors.push_back(std::move(t));
  }
  const uint64_t data_start = (r.pos() + alignment - 1) / alignment * alignment;
  for (size_t i = 0; i < info.tensors.size(); ++i) {
    const TensorInfo& t = info.tensors[i];
    auto layout = supported_types().find(t.type);
    if (layout == supported_types().end()) {
      fail(ErrorCode::unsupported,
           "tensor type " + ggml_type_name(t.type) +
               " is not supported (supported: F32, F16, Q4_0, Q4_1, Q8_0); "
               "re-quantize the model to one of these, e.g. with "
               "llama.cpp's llama-quantize",
           {.file = path.string(), .key = t.name});
    }
    // Every supported type takes more than half a byte per element, so a
    // count above twice the file size cannot fit (and cannot overflow).
    uint64_t elements = 1;
    for (int d : t.shape) {
      if (elements > 2 * file_size / static_cast<uint64_t>(d)) {
        r.corrupt("the tensor is larger than the file (truncated?)", t.name);
      }
      elements *= static_cast<uint64_t>(d);
    }
    const auto& [name, block, block_bytes] = layout->second;
    if (t.shape.back() % block != 0) {
      r.corrupt(std::string(name) + " tensor rows must be a multiple of " +
                    std::to_string(block) + " elements",
                t.name);
    }
    const uint64_t end = data_start + t.offset + elements / block * block_bytes;
    if (t.offset % alignment != 0 || t.offset > file_size || end > file_size) {
      r.corrupt("the data of this tensor lies past the end of the file "
                "(truncated? " +
                    std::to_string(file_size) + " bytes, needs " +
                    std::to_string(end) + ")",
                t.name);
    }
  }
  return info;
}

} // namespace mlxt::gguf
