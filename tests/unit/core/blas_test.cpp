#include "mlxt/core/blas.h"
#include "support/test_support.h"

// The wheel's reference BLAS is ~10x slower; the build must bind OpenBLAS.
TEST(Blas, MlxMatmulsUseOpenBlas) {
  EXPECT_NE(mlxt::blas_library().find("openblas"), std::string::npos)
      << mlxt::blas_library();
}
