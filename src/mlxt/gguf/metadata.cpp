#include "mlxt/gguf/metadata.h"

#include "mlxt/core/error.h"

namespace mlxt::gguf {

void Metadata::wrong(const std::string& key,
                     const std::string& expected) const {
  fail(ErrorCode::invalid_model,
       contains(key) ? "expected " + expected : "missing; expected " + expected,
       {.file = source_, .key = key});
}

bool Metadata::contains(const std::string& key) const {
  auto it = values_.find(key);
  return it != values_.end() &&
         !std::holds_alternative<std::monostate>(it->second);
}

const mx::array* Metadata::scalar(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    return nullptr;
  }
  const mx::array* a = std::get_if<mx::array>(&it->second);
  if (a == nullptr || a->ndim() != 0) {
    wrong(key, "a number");
  }
  return a;
}

std::optional<long long> Metadata::get_int(const std::string& key) const {
  const mx::array* a = scalar(key);
  if (a == nullptr) {
    return std::nullopt;
  }
  if (!mx::issubdtype(a->dtype(), mx::integer)) {
    wrong(key, "an integer");
  }
  return mx::astype(*a, mx::int64).item<int64_t>();
}

int Metadata::require_int(const std::string& key) const {
  auto value = get_int(key);
  if (!value || *value <= 0 || *value > (1LL << 30)) {
    wrong(key, "a positive integer");
  }
  return static_cast<int>(*value);
}

float Metadata::get_float(const std::string& key, float fallback) const {
  const mx::array* a = scalar(key);
  return a == nullptr ? fallback : mx::astype(*a, mx::float32).item<float>();
}

bool Metadata::get_bool(const std::string& key, bool fallback) const {
  const mx::array* a = scalar(key);
  if (a == nullptr) {
    return fallback;
  }
  if (a->dtype() != mx::bool_) {
    wrong(key, "true or false");
  }
  return a->item<bool>();
}

std::optional<std::string> Metadata::get_string(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    return std::nullopt;
  }
  const std::string* s = std::get_if<std::string>(&it->second);
  if (s == nullptr) {
    wrong(key, "a string");
  }
  return *s;
}

std::string Metadata::require_string(const std::string& key) const {
  auto value = get_string(key);
  if (!value) {
    wrong(key, "a string");
  }
  return *value;
}

const std::vector<std::string>&
Metadata::require_strings(const std::string& key) const {
  auto it = values_.find(key);
  const auto* list = it == values_.end()
                         ? nullptr
                         : std::get_if<std::vector<std::string>>(&it->second);
  if (list == nullptr) {
    wrong(key, "an array of strings");
  }
  return *list;
}

std::vector<int> Metadata::require_ints(const std::string& key) const {
  auto it = values_.find(key);
  const auto* a =
      it == values_.end() ? nullptr : std::get_if<mx::array>(&it->second);
  if (a == nullptr || a->ndim() != 1 ||
      !mx::issubdtype(a->dtype(), mx::integer)) {
    wrong(key, "an array of integers");
  }
  mx::array values = mx::astype(*a, mx::int32);
  mx::eval(values);
  return std::vector<int>(values.data<int>(),
                          values.data<int>() + values.size());
}

} // namespace mlxt::gguf
