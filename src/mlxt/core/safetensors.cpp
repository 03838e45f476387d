#include "mlxt/core/safetensors.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <limits>
#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "mlxt/core/atomic_file.h"
#include "mlxt/core/error.h"

namespace mlxt {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The context of an error about `file` (and a tensor or JSON key in it).
ErrorContext in_file(std::string file, std::string key = {}) {
  return ErrorContext{std::move(file), 0, std::move(key)};
}

// The limit of the Rust reference implementation and of MLX's loader, which
// rejects lengths >= 100,000,000.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DtypeSpec {
  const char* name;    // safetensors spelling
  uint64_t size;       // bytes per element
  bool loadable;       // MLX has an array dtype for it
  mx::Dtype mlx_dtype; // meaningful when loadable
};

// Every dtype of the safetensors specification. F64 and the 8-bit floats are
// valid files that MLX cannot load.
constexpr std::array<DtypeSpec, 17> kDtypes{{
    {"BOOL", 1, true, mx::bool_},
    {"U8", 1, true, mx::uint8},
    {"I8", 1, true, mx::int8},
    {"U16", 2, true, mx::uint16},
    {"I16", 2, true, mx::int16},
    {"F16", 2, true, mx::float16},
    {"BF16", 2, true, mx::bfloat16},
    {"U32", 4, true, mx::uint32},
    {"I32", 4, true, mx::int32},
    {"F32", 4, true, mx::float32},
    {"U64", 8, true, mx::uint64},
    {"I64", 8, true, mx::int64},
    {"C64", 8, true, mx::complex64},
    {"F64", 8, false, mx::float32},
    {"F8_E4M3", 1, false, mx::float32},
    {"F8_E5M2", 1, false, mx::float32},
    {"F8_E8M0", 1, false, mx::float32},
}};

const DtypeSpec* find_dtype(const std::string& name) {
  for (const auto& spec : kDtypes) {
    if (name == spec.name) {
      return &spec;
    }
  }
  return nullptr;
}

const DtypeSpec* find_dtype(mx::Dtype dtype) {
  for (const auto& spec : kDtypes) {
    if (spec.loadable && spec.mlx_dtype == dtype) {
      return &spec;
    }
  }
  return nullptr;
}

std::string loadable_dtype_names() {
  std::string out;
  for (const auto& spec : kDtypes) {
    if (spec.loadable) {
      out += (out.empty() ? "" : ", ") + std::string(spec.name);
    }
  }
  return out;
}

std::string json_type(const json& value) {
  return std::string(value.type_name());
}

// "[2, 3]" for a shape or an offset pair.
template <typename Container>
std::string list_text(const Container& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(values[i]);
  }
  return out + "]";
}

// Validates the parsed header of `file`; `data_size` is the number of bytes
// after the header. Fills tensors in header order.
class HeaderValidator {
public:
  HeaderValidator(const fs::path& file, uint64_t data_size)
      : file_(file.string()), data_size_(data_size) {}

  SafetensorsHeader validate(const json& root) {
    if (!root.is_object()) {
      fail_model(
          "",
          "header is a JSON " + json_type(root) +
              "; expected an object mapping tensor names to {dtype, shape, "
              "data_offsets}");
    }
    SafetensorsHeader header;
    for (const auto& [key, value] : root.items()) {
      if (key == "__metadata__") {
        header.metadata = read_metadata(value);
      } else {
        header.tensors.push_back(read_tensor(key, value));
      }
    }
    check_no_overlap(header.tensors);
    return header;
  }

private:
  [[noreturn]] void fail_model(const std::string& key, const std::string& m) {
    fail(ErrorCode::invalid_model, m, in_file(file_, key));
  }

  // MLX writes "__metadata__": null when there is no metadata; the Rust
  // reference also reads null as none.
  std::map<std::string, std::string> read_metadata(const json& value) {
    if (value.is_null()) {
      return {};
    }
    if (!value.is_object()) {
      fail_model("__metadata__",
                 "is a JSON " + json_type(value) +
                     "; expected an object of strings");
    }
    std::map<std::string, std::string> metadata;
    for (const auto& [key, item] : value.items()) {
      if (!item.is_string()) {
        fail_model("__metadata__." + key,
                   "is a JSON " + json_type(item) +
                       "; metadata values must be strings");
      }
      metadata[key] = item.get<std::string>();
    }
    return metadata;
  }

  TensorInfo read_tensor(const std::string& name, const json& value) {
    if (!value.is_object()) {
      fail_model(name,
                 "is a JSON " + json_type(value) +
                     "; expected an object {dtype, shape, data_offsets}");
    }
    for (const char* field : {"dtype", "shape", "data_offsets"}) {
      if (!value.contains(field)) {
        fail_model(name, std::string("has no \"") + field + "\" field");
      }
    }
    TensorInfo info;
    info.name = name;
    const DtypeSpec& dtype = read_dtype(name, value["dtype"]);
    info.dtype = dtype.name;
    info.shape = read_shape(name, value["shape"]);
    auto offsets = read_offsets(name, value["data_offsets"]);
    info.begin = offsets[0];
    info.end = offsets[1];
    check_byte_size(info, dtype);
    return info;
  }

  const DtypeSpec& read_dtype(const std::string& name, const json& value) {
    if (!value.is_string()) {
      fail_model(name,
                 "dtype is a JSON " + json_type(value) +
                     "; expected a string such as "
                     "\"F32\"");
    }
    auto text = value.get<std::string>();
    const DtypeSpec* spec = find_dtype(text);
    if (spec == nullptr) {
      fail_model(name,
                 "unknown dtype \"" + text + "\"; expected one of " +
                     loadable_dtype_names());
    }
    if (!spec->loadable) {
      fail(ErrorCode::unsupported,
           "dtype " + text +
               " is not supported: MLX has no such array type "
               "(supported: " +
               loadable_dtype_names() +
               "); convert the tensor, e.g. to F32 or BF16, before loading",
           in_file(file_, name));
    }
    return *spec;
  }

  std::vector<int64_t> read_shape(const std::string& name, const json& value) {
    if (!value.is_array()) {
      fail_model(name,
                 "shape is a JSON " + json_type(value) +
                     "; expected an array of non-negative integers");
    }
    std::vector<int64_t> shape;
    for (size_t i = 0; i < value.size(); ++i) {
      const json& dim = value[i];
      std::string where = "shape[" + std::to_string(i) + "] ";
      if (!dim.is_number_integer()) {
        fail_model(name,
                   where + "is " + dim.dump() +
                       "; expected a non-negative integer");
      }
      if (dim.is_number_unsigned()) {
        auto d = dim.get<uint64_t>();
        if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          fail_model(name, where + "is " + dim.dump() + ", too large");
        }
        shape.push_back(static_cast<int64_t>(d));
      } else {
        auto d = dim.get<int64_t>();
        if (d < 0) {
          fail_model(name,
                     where + "is " + std::to_string(d) +
                         "; expected a non-negative integer");
        }
        shape.push_back(d);
      }
    }
    return shape;
  }

  std::array<uint64_t, 2> read_offsets(const std::string& name,
                                       const json& value) {
    if (!value.is_array() || value.size() != 2 ||
        !value[0].is_number_unsigned() || !value[1].is_number_unsigned()) {
      fail_model(name,
                 "data_offsets is " + value.dump() +
                     "; expected [begin, end], two non-negative integers");
    }
    std::array<uint64_t, 2> offsets{value[0].get<uint64_t>(),
                                    value[1].get<uint64_t>()};
    std::string text =
        list_text(std::vector<uint64_t>(offsets.begin(), offsets.end()));
    if (offsets[0] > offsets[1]) {
      fail_model(name,
                 "data_offsets " + text +
                     " has begin > end; expected begin <= end");
    }
    if (offsets[1] > data_size_) {
      fail_model(name,
                 "data_offsets " + text + " reach beyond the data section of " +
                     std::to_string(data_size_) + " bytes (truncated file?)");
    }
    return offsets;
  }

  // element count x dtype size must equal end - begin, computed without
  // wrapping around.
  void check_byte_size(const TensorInfo& info, const DtypeSpec& dtype) {
    uint64_t bytes = dtype.size;
    for (int64_t dim : info.shape) {
      auto d = static_cast<uint64_t>(dim);
      if (d != 0 && bytes > std::numeric_limits<uint64_t>::max() / d) {
        fail_model(info.name,
                   "shape " + list_text(info.shape) + " of " + dtype.name +
                       " overflows a 64-bit byte count");
      }
      bytes *= d;
    }
    uint64_t span = info.end - info.begin;
    if (bytes != span) {
      fail_model(info.name,
                 "shape " + list_text(info.shape) + " of " + dtype.name +
                     " needs " + std::to_string(bytes) +
                     " bytes, but data_offsets [" + std::to_string(info.begin) +
                     ", " + std::to_string(info.end) + "] span " +
                     std::to_string(span));
    }
    // MLX shapes are int32; a larger dimension cannot become an array.
    for (int64_t dim : info.shape) {
      if (dim > std::numeric_limits<int32_t>::max()) {
        fail(ErrorCode::unsupported,
             "shape " + list_text(info.shape) +
                 " has a dimension above 2^31 - 1, the largest MLX supports",
             in_file(file_, info.name));
      }
    }
  }

  void check_no_overlap(const std::vector<TensorInfo>& tensors) {
    std::vector<const TensorInfo*> by_begin;
    for (const auto& t : tensors) {
      if (t.end > t.begin) { // empty tensors occupy no bytes
        by_begin.push_back(&t);
      }
    }
    std::sort(by_begin.begin(), by_begin.end(), [](auto* a, auto* b) {
      return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    for (size_t i = 1; i < by_begin.size(); ++i) {
      const TensorInfo& prev = *by_begin[i - 1];
      const TensorInfo& cur = *by_begin[i];
      if (cur.begin < prev.end) {
        fail_model(cur.name,
                   "data_offsets [" + std::to_string(cur.begin) + ", " +
                       std::to_string(cur.end) + "] overlap tensor \"" +
                       prev.name + "\" at [" + std::to_string(prev.begin) +
                       ", " + std::to_string(prev.end) +
                       "]; tensors must not share bytes");
      }
    }
  }

  std::string file_;
  uint64_t data_size_;
};

// Parses the header text, rejecting a top-level key that appears twice
// (nlohmann keeps the last one silently).
json parse_header_json(const fs::path& file, const std::string& text) {
  std::set<std::string> top_level_keys;
  std::string duplicate;
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 &&
        !top_level_keys.insert(parsed.get<std::string>()).second &&
        duplicate.empty()) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json root;
  try {
    root = json::parse(text, on_event);
  } catch (const json::exception& e) {
    fail(ErrorCode::invalid_model,
         std::string("header is not valid JSON (") + e.what() +
             "); expected a JSON object",
         in_file(file.string()));
  }
  if (!duplicate.empty()) {
    fail(ErrorCode::invalid_model,
         "appears twice in the header; tensor names must be unique",
         in_file(file.string(), duplicate));
  }
  return root;
}

} // namespace

SafetensorsHeader read_safetensors_header(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    fail(ErrorCode::not_found,
         "safetensors file does not exist or is not a regular file",
         in_file(file.string()));
  }
  uint64_t file_size = fs::file_size(file, ec);
  std::ifstream in(file, std::ios::binary);
  if (ec || !in) {
    fail(ErrorCode::io,
         "cannot open the file for reading",
         in_file(file.string()));
  }
  if (file_size < 8) {
    fail(ErrorCode::invalid_model,
         "truncated: the file has " + std::to_string(file_size) +
             " bytes; a safetensors file starts with an 8-byte header length",
         in_file(file.string()));
  }
  unsigned char length_bytes[8];
  in.read(reinterpret_cast<char*>(length_bytes), 8);
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) { // little-endian u64
    header_length = (header_length << 8) | length_bytes[i];
  }
  if (header_length > file_size - 8) {
    fail(ErrorCode::invalid_model,
         "header length " + std::to_string(header_length) + " exceeds the " +
             std::to_string(file_size - 8) +
             " bytes after it (truncated or not a safetensors file)",
         in_file(file.string()));
  }
  if (header_length == 0 || header_length >= kMaxHeaderBytes) {
    fail(ErrorCode::invalid_model,
         "header length " + std::to_string(header_length) + "; expected 1 to " +
             std::to_string(kMaxHeaderBytes - 1) + " bytes of JSON",
         in_file(file.string()));
  }
  std::string text(header_length, '\0');
  in.read(text.data(), static_cast<std::streamsize>(header_length));
  if (!in) {
    fail(ErrorCode::io, "reading the header failed", in_file(file.string()));
  }
  json root = parse_header_json(file, text);
  HeaderValidator validator(file, file_size - 8 - header_length);
  return validator.validate(root);
}

Params load_safetensors_file(const fs::path& file) {
  SafetensorsHeader header = read_safetensors_header(file);
  mx::SafetensorsLoad loaded;
  try {
    loaded = mx::load_safetensors(file.string());
  } catch (const std::exception& e) {
    fail(ErrorCode::invalid_model,
         std::string("MLX could not load the validated file: ") + e.what(),
         in_file(file.string()));
  }
  Params params;
  for (auto& [name, array] : loaded.first) {
    params.emplace(name, std::move(array));
  }
  if (params.size() != header.tensors.size()) {
    fail(ErrorCode::internal,
         "MLX loaded " + std::to_string(params.size()) +
             " tensors, the header "
             "lists " +
             std::to_string(header.tensors.size()),
         in_file(file.string()));
  }
  return params;
}

void save_safetensors_file(const fs::path& file,
                           const Params& params,
                           const std::map<std::string, std::string>& metadata) {
  // MLX sorts the JSON header (nlohmann) but lays the data out in the
  // iteration order of its unordered_map, which depends on insertion order and
  // bucket history. Inserting in name order without reserve() gives the same
  // bytes every time, identical to Python mx.save_safetensors of a
  // name-sorted dict (checked with libstdc++ up to 1000 tensors).
  std::unordered_map<std::string, mx::array> arrays;

  for (const auto& [name, array] : params) {
    if (find_dtype(array.dtype()) == nullptr) {
      fail(ErrorCode::unsupported,
           "cannot save an array of this dtype to safetensors through MLX; "
           "supported: " +
               loadable_dtype_names(),
           in_file(file.string(), name));
    }
    if (array.size() == 0) {
      fail(ErrorCode::unsupported,
           "cannot save an empty array (shape " + list_text(array.shape()) +
               "): MLX refuses zero-byte tensors",
           in_file(file.string(), name));
    }
    arrays.emplace(name, array);
  }
  std::unordered_map<std::string, std::string> mlx_metadata(metadata.begin(),
                                                            metadata.end());

  // MLX appends ".safetensors" to names without it.
  fs::path temp = temp_path_for(file, ".safetensors");
  try {
    mx::save_safetensors(temp.string(), std::move(arrays), mlx_metadata);
  } catch (const std::exception& e) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    fail(ErrorCode::io,
         std::string("writing safetensors failed: ") + e.what(),
         in_file(file.string()));
  }
  commit_temp_file(temp, file);
}

} // namespace mlxt
