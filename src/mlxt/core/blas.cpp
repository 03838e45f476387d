#include "mlxt/core/blas.h"

#include <dlfcn.h>

namespace mlxt {

std::string blas_library() {
  // RTLD_DEFAULT follows the same lookup order that bound libmlx's calls.
  void* symbol = dlsym(RTLD_DEFAULT, "cblas_sgemm");
  Dl_info info{};
  if (symbol == nullptr || dladdr(symbol, &info) == 0 ||
      info.dli_fname == nullptr) {
    return "unknown";
  }
  return info.dli_fname;
}

} // namespace mlxt
