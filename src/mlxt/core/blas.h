// Which BLAS library MLX's CPU matmuls are bound to in this process.
#pragma once

#include <string>

namespace mlxt {

//! Path of the shared library that provides cblas_sgemm to the process
//! (OpenBLAS when the build's link order works; the wheel's bundled
//! reference BLAS otherwise), or "unknown".
std::string blas_library();

} // namespace mlxt
