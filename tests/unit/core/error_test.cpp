#include "support/test_support.h"

TEST(Error, MessageNamesFileLineAndKey) {
  EXPECT_MLXT_ERROR(
      mlxt::fail(mlxt::ErrorCode::invalid_config,
                 "must be positive",
                 {.file = "a.yaml", .line = 3, .key = "batch_size"}),
      invalid_config,
      "a.yaml:3: batch_size: must be positive");
}

// Issue 19.11: "repo: repo: ..." when the message already named its key.
TEST(Error, MessageThatStartsWithItsKeyNamesItOnce) {
  try {
    mlxt::fail(mlxt::ErrorCode::invalid_config,
               "repo: \"x y\" is not a repository id",
               {.key = "repo"});
  } catch (const mlxt::Error& e) {
    EXPECT_STREQ(e.what(), "repo: \"x y\" is not a repository id");
    EXPECT_EQ(e.context().key, "repo");
  }
}
