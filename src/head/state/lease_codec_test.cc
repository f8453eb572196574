#include "head/state/lease_codec.h"

#include <gtest/gtest.h>

namespace swell::head::state {
namespace {

TEST(LeaseCodecTest, UnitsSurviveTheRoundTrip) {
  UnitRows units = {{{"node1", 2, 4, 1024, 0}},
                    {{"node1", 1, 1, 0, 0}, {"big-10", 3, 3, 2048, 1}},
                    {}};
  std::string text = EncodeShares(units);
  EXPECT_EQ(text, "node1:2:4:1024:0,;node1:1:1:0:0,big-10:3:3:2048:1,;;");
  EXPECT_EQ(DecodeShares(text), units);
  EXPECT_TRUE(DecodeShares("").empty());
}

TEST(LeaseCodecTest, DamagedPartsAreSkipped) {
  // A part without numbers is dropped from its unit; a unit without its ';' is dropped.
  UnitRows units = DecodeShares("a:1:1:0:0,b:x,;c:1:2:3:4");
  ASSERT_EQ(units.size(), 1u);
  ASSERT_EQ(units[0].size(), 1u);
  EXPECT_EQ(units[0][0], (ShareRow{"a", 1, 1, 0, 0}));
}

}  // namespace
}  // namespace swell::head::state
