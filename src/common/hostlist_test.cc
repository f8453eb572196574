#include "common/hostlist.h"

#include <gtest/gtest.h>

#include <string>

namespace swell {
namespace {

TEST(CompressHostListTest, Basics) {
  EXPECT_EQ(CompressHostList({}), "");
  EXPECT_EQ(CompressHostList({"node7"}), "node7");
  EXPECT_EQ(CompressHostList({"node1", "node2"}), "node[1-2]");
  EXPECT_EQ(CompressHostList({"node1", "node2", "node3", "node5"}), "node[1-3,5]");
  EXPECT_EQ(CompressHostList({"node5", "node3", "node1", "node2", "node3"}), "node[1-3,5]");
  EXPECT_EQ(CompressHostList({"login", "node2", "node1"}), "login,node[1-2]");
  EXPECT_EQ(CompressHostList({"a1", "b1", "a2"}), "a[1-2],b1");
}

TEST(CompressHostListTest, Padding) {
  EXPECT_EQ(CompressHostList({"n01", "n02", "n03"}), "n[01-03]");
  EXPECT_EQ(CompressHostList({"n09", "n10", "n11"}), "n[09-11]");
  EXPECT_EQ(CompressHostList({"n9", "n10"}), "n[9-10]");
  EXPECT_EQ(CompressHostList({"n098", "n099", "n100"}), "n[098-100]");
  EXPECT_EQ(CompressHostList({"n1", "n02"}), "n[1,02]");  // different padding: separate ranges
  EXPECT_EQ(CompressHostList({"n001", "n2"}), "n[001,2]");
}

TEST(CompressHostListTest, NamesWithoutNumbers) {
  EXPECT_EQ(CompressHostList({"gamma", "alpha", "beta"}), "alpha,beta,gamma");
  EXPECT_EQ(CompressHostList({"node", "node1", "node2"}), "node,node[1-2]");
  EXPECT_EQ(CompressHostList({"rack1-node4", "rack1-node5"}), "rack1-node[4-5]");
  EXPECT_EQ(CompressHostList({"", "x"}), "x");
}

TEST(ExpandHostListTest, Forms) {
  using V = std::vector<std::string>;
  EXPECT_EQ(*ExpandHostList(""), V{});
  EXPECT_EQ(*ExpandHostList("node7"), V{"node7"});
  EXPECT_EQ(*ExpandHostList("n[1-3,5],login"), (V{"n1", "n2", "n3", "n5", "login"}));
  EXPECT_EQ(*ExpandHostList("n[08-10]"), (V{"n08", "n09", "n10"}));
  EXPECT_EQ(*ExpandHostList("r[1-2]n[1-2]"), (V{"r1n1", "r1n2", "r2n1", "r2n2"}));
  EXPECT_EQ(*ExpandHostList("a[1]-x,,b"), (V{"a1-x", "b"}));
}

TEST(ExpandHostListTest, RoundTripsCompressHostList) {
  std::vector<std::string> names = {"login", "n01", "n02", "n03", "n10", "node1", "node2", "node5"};
  auto back = ExpandHostList(CompressHostList(names));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, names);
}

TEST(ExpandHostListTest, RejectsBadInput) {
  for (const char* text :
       {"n[1-3", "n1-3]", "n[[1]]", "n[3-1]", "n[a-b]", "n[]", "n[1-]", "n[-1]", "n[1-99999999]"}) {
    auto r = ExpandHostList(text);
    EXPECT_FALSE(r.ok()) << text;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find(text), std::string::npos) << text;
    }
  }
}

TEST(ExpandCountsTest, UndoesCompressCounts) {
  for (const std::vector<int>& counts :
       std::vector<std::vector<int>>{{2, 2, 2, 1}, {1}, {}, {4, 1, 1, 3, 3}, {0, 0}})
    EXPECT_EQ(*ExpandCounts(CompressCounts(counts)), counts);
}

TEST(ExpandCountsTest, RefusesWhatIsNotACountList) {
  for (const char* text : {"x", "2(x", "2(x0)", "2(x3", "(x2)", "1,,2", "-1", "2(x2000000)", "1,"})
    EXPECT_FALSE(ExpandCounts(text).ok()) << text;
}

TEST(CompressCountsTest, RunsOfEqualCountsAsSlurmWritesThem) {
  EXPECT_EQ(CompressCounts({2, 2, 2, 1}), "2(x3),1");
  EXPECT_EQ(CompressCounts({1}), "1");
  EXPECT_EQ(CompressCounts({1, 2, 1}), "1,2,1");
  EXPECT_EQ(CompressCounts({}), "");
}

}  // namespace
}  // namespace swell
