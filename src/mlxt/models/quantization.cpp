#include "mlxt/models/quantization.h"

#include <set>

#include "mlxt/core/error.h"

namespace mlxt::models {

namespace {

using nlohmann::json;

const std::set<int>& allowed_bits() {
  static const std::set<int> bits = {2, 3, 4, 5, 6, 8};
  return bits;
}

int read_field(const json& object,
               const char* field,
               const std::string& key,
               const std::string& source) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_number_integer()) {
    fail(ErrorCode::invalid_model,
         std::string("expected an integer \"") + field + "\"",
         {.file = source, .key = key + "." + field});
  }
  return it->get<int>();
}

int read_bits(const json& object,
              const std::string& key,
              const std::string& source) {
  const int bits = read_field(object, "bits", key, source);
  if (!allowed_bits().contains(bits)) {
    fail(ErrorCode::invalid_model,
         "bits must be one of 2, 3, 4, 5, 6, 8, got " + std::to_string(bits),
         {.file = source, .key = key + ".bits"});
  }
  return bits;
}

} // namespace

int Quantization::bits_for(const std::string& prefix) const {
  auto it = layer_bits.find(prefix);
  return it == layer_bits.end() ? bits : it->second;
}

json Quantization::to_json() const {
  json out = {{"group_size", group_size}, {"bits", bits}};
  for (const auto& [layer, b] : layer_bits) {
    out[layer] =
        b == 0 ? json(false) : json{{"group_size", group_size}, {"bits", b}};
  }
  return out;
}

std::optional<Quantization> parse_quantization(const json& config,
                                               const std::string& source) {
  auto it = config.find("quantization");
  if (it == config.end() || it->is_null()) {
    return std::nullopt;
  }
  const std::string key = "quantization";
  if (!it->is_object()) {
    fail(ErrorCode::invalid_model,
         "expected an object {\"group_size\", \"bits\"}",
         {.file = source, .key = key});
  }
  Quantization q;
  q.group_size = read_field(*it, "group_size", key, source);
  if (q.group_size != 32 && q.group_size != 64 && q.group_size != 128) {
    fail(ErrorCode::invalid_model,
         "group_size must be 32, 64 or 128, got " +
             std::to_string(q.group_size),
         {.file = source, .key = key + ".group_size"});
  }
  q.bits = read_bits(*it, key, source);
  const std::string mode = it->value("mode", "affine");
  if (mode != "affine") {
    fail(ErrorCode::unsupported,
         "quantization mode \"" + mode + "\" is not supported (affine only)",
         {.file = source, .key = key + ".mode"});
  }
  for (const auto& [name, value] : it->items()) {
    if (name == "group_size" || name == "bits" || name == "mode") {
      continue;
    }
    const std::string layer_key = key + "." + name;
    if (value.is_boolean() && !value.get<bool>()) {
      q.layer_bits[name] = 0;
      continue;
    }
    if (!value.is_object()) {
      fail(ErrorCode::invalid_model,
           "a per-layer entry must be {\"group_size\", \"bits\"} or false",
           {.file = source, .key = layer_key});
    }
    if (read_field(value, "group_size", layer_key, source) != q.group_size) {
      fail(ErrorCode::unsupported,
           "per-layer group sizes that differ from quantization.group_size "
           "are not supported",
           {.file = source, .key = layer_key + ".group_size"});
    }
    q.layer_bits[name] = read_bits(value, layer_key, source);
  }
  return q;
}

size_t logical_parameter_count(const Params& weights, int group_size) {
  size_t count = 0;
  for (const auto& [name, w] : weights) {
    const auto dot = name.rfind('.');
    const std::string prefix = name.substr(0, dot);
    const std::string leaf = name.substr(dot + 1);
    const auto scales = weights.find(prefix + ".scales");
    if (scales == weights.end()) {
      count += w.size();
    } else if (leaf == "weight") {
      count += size_t(w.shape(0)) * scales->second.shape(-1) * group_size;
    }
  }
  return count;
}

} // namespace mlxt::models
