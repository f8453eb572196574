#include "common/status.h"

#include <gtest/gtest.h>

namespace swell {
namespace {

TEST(StatusTest, CodesHaveTheirUpperSnakeNames) {
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  EXPECT_EQ(InvalidArgument("bad").ToString(), "INVALID_ARGUMENT: bad");
  EXPECT_EQ(DeadlineExceeded("slow").ToString(), "DEADLINE_EXCEEDED: slow");
  EXPECT_EQ(Internal("bug").ToString(), "INTERNAL: bug");  // the last code
  EXPECT_STREQ(CodeName(static_cast<Code>(99)), "UNKNOWN");
}

}  // namespace
}  // namespace swell
