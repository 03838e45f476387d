// Helpers for tests that compare MLX results with double-precision
// references (the optimizer tests).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <mlx/mlx.h>

namespace mlxt::testing {

//! |actual - expected| <= rel * max(|expected|, floor).
inline void expect_close(double actual,
                         double expected,
                         double rel,
                         double floor,
                         const std::string& what) {
  const double tol = rel * std::max(std::abs(expected), floor);
  EXPECT_LE(std::abs(actual - expected), tol)
      << what << ": actual " << actual << ", expected " << expected;
}

//! The elements of `a` (any float dtype) as doubles, in row-major order.
inline std::vector<double> to_doubles(const mlx::core::array& a) {
  auto f = mlx::core::astype(a, mlx::core::float32);
  mlx::core::eval(f);
  const float* data = f.data<float>();
  return std::vector<double>(data, data + f.size());
}

//! A float32 array of `shape` holding `values`.
inline mlx::core::array from_doubles(const std::vector<double>& values,
                                     mlx::core::Shape shape) {
  std::vector<float> f(values.begin(), values.end());
  return mlx::core::array(f.begin(), std::move(shape), mlx::core::float32);
}

//! An optimizer step counter (uint64 scalar).
inline mlx::core::array step_array(uint64_t step) {
  return mlx::core::array(step, mlx::core::uint64);
}

} // namespace mlxt::testing
