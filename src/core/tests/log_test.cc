#include "core/log.h"

#include <gtest/gtest.h>

namespace forcepipe::log {
namespace {

TEST(Redact, ReplacesEveryRegisteredSecret) {
  RegisterSecret("s3cr3t-token-value");
  RegisterSecret("abc");  // too short: ignored
  EXPECT_EQ(Redact("token=s3cr3t-token-value and again s3cr3t-token-value"),
            "token=*** and again ***");
  EXPECT_EQ(Redact("abc stays"), "abc stays");
}

}  // namespace
}  // namespace forcepipe::log
