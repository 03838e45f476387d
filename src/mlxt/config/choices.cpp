#include "mlxt/config/choices.h"

namespace mlxt::config {

mlx::core::Dtype to_mx_dtype(ComputeDtype dtype) {
  switch (dtype) {
  case ComputeDtype::float32:
    return mlx::core::float32;
  case ComputeDtype::bfloat16:
    return mlx::core::bfloat16;
  case ComputeDtype::float16:
    return mlx::core::float16;
  }
  return mlx::core::float32;
}

} // namespace mlxt::config
