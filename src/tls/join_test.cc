#include "tls/join.h"

#include <gtest/gtest.h>

#include <vector>

namespace swell::tls {
namespace {

TEST(JoinTokenTest, ANewTokenReadsBackAndNoTwoAreAlike) {
  auto a = NewJoinToken();
  auto b = NewJoinToken();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->text(), b->text());
  auto parsed = ParseJoinToken(a->text());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->id, a->id);
  EXPECT_EQ(parsed->secret, a->secret);
}

TEST(JoinTokenTest, AnythingElseIsRefused) {
  std::string good = NewJoinToken()->text();
  for (const std::string& bad :
       std::vector<std::string>{"", good.substr(1), good + "0", good.substr(0, 16),
                                "0123456789abcdef-0123456789abcdef0123456789abcdef",
                                "0123456789ABCDEF.0123456789abcdef0123456789abcdef",
                                "0123456789abcdeg.0123456789abcdef0123456789abcdef"})
    EXPECT_FALSE(ParseJoinToken(bad).ok()) << bad;
}

TEST(JoinProofTest, EachFieldAndTheSecretCount) {
  std::string p = JoinRequestProof("s", "id", "node1", "key");
  EXPECT_EQ(p, JoinRequestProof("s", "id", "node1", "key"));
  EXPECT_EQ(p.size(), 64u);
  EXPECT_NE(p, JoinRequestProof("t", "id", "node1", "key"));
  EXPECT_NE(p, JoinRequestProof("s", "id2", "node1", "key"));
  EXPECT_NE(p, JoinRequestProof("s", "id", "node2", "key"));
  EXPECT_NE(p, JoinRequestProof("s", "id", "node1", "key2"));
  // Fields are delimited by their lengths: moving a byte across a boundary changes the proof.
  EXPECT_NE(JoinRequestProof("s", "ab", "c", "k"), JoinRequestProof("s", "a", "bc", "k"));
  // A reply's proof is not a request's.
  EXPECT_NE(JoinReplyProof("s", "id", "node1"), JoinRequestProof("s", "id", "node1", ""));
}

}  // namespace
}  // namespace swell::tls
