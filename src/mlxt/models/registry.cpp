#include "mlxt/models/registry.h"

namespace mlxt::models {

namespace {

const ArchSpec* const kArchs[] = {
    &llama_arch(),
    &mistral_arch(),
    &qwen2_arch(),
    &qwen3_arch(),
};

} // namespace

const ArchSpec* find_arch(const std::string& model_type) {
  for (const ArchSpec* arch : kArchs) {
    if (model_type == arch->model_type) {
      return arch;
    }
  }
  return nullptr;
}

std::vector<std::string> supported_model_types() {
  std::vector<std::string> names;
  for (const ArchSpec* arch : kArchs) {
    names.push_back(arch->model_type);
  }
  return names;
}

} // namespace mlxt::models
