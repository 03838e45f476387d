#include "support/test_support.h"

TEST(Error, MessageNamesFileLineAndKey) {
  EXPECT_MLXT_ERROR(
      mlxt::fail(mlxt::ErrorCode::invalid_config,
                 "must be positive",
                 {.file = "a.yaml", .line = 3, .key = "batch_size"}),
      invalid_config,
      "a.yaml:3: batch_size: must be positive");
}
