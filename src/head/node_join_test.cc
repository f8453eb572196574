#include "head/node_join.h"

#include <gtest/gtest.h>

namespace swell::head {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;

tls::JoinToken Token() { return *tls::NewJoinToken(); }

pb::JoinRequest Request(const tls::JoinToken& t, const std::string& name) {
  pb::JoinRequest r;
  r.set_token_id(t.id);
  r.set_name(name);
  r.set_public_key("KEY");
  r.set_proof(tls::JoinRequestProof(t.secret, t.id, name, "KEY"));
  return r;
}

TEST(NodeJoinTest, OnlyRootOrTheOwnerOnTheHeadsHostMakeTokens) {
  rpc::Caller local;
  local.local = true;
  local.uid = 1000;
  EXPECT_TRUE(MayMakeTokens(local, 1000).ok());
  EXPECT_FALSE(MayMakeTokens(local, 0).ok());
  local.uid = 0;
  EXPECT_TRUE(MayMakeTokens(local, 1000).ok());
  rpc::Caller remote = local;
  remote.local = false;  // root by certificate, on another machine
  EXPECT_EQ(MayMakeTokens(remote, 0).code(), Code::kPermissionDenied);
}

TEST(NodeJoinTest, ATokenLivesADayForOneNodeUnlessAskedOtherwise) {
  auto t = Token();
  auto row = NewTokenRow({}, t, kNow);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->uses_left, 1);
  EXPECT_EQ(row->expires_ms, kNow + 24 * 3600 * 1000);
  EXPECT_EQ(row->secret, t.secret);
  pb::TokenRequest r;
  r.set_ttl_s(60);
  r.set_uses(5);
  r.set_node("far1");
  row = NewTokenRow(r, t, kNow);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->uses_left, 5);
  EXPECT_EQ(row->expires_ms, kNow + 60'000);
  EXPECT_EQ(row->node, "far1");
  using Change = void (*)(pb::TokenRequest&);
  for (Change bad : {+[](pb::TokenRequest& q) { q.set_ttl_s(-1); },
                     +[](pb::TokenRequest& q) { q.set_ttl_s(400LL * 24 * 3600); },
                     +[](pb::TokenRequest& q) { q.set_uses(-2); },
                     +[](pb::TokenRequest& q) { q.set_uses(10001); },
                     +[](pb::TokenRequest& q) { q.set_node("../x"); }}) {
    pb::TokenRequest q;
    bad(q);
    EXPECT_EQ(NewTokenRow(q, t, kNow).status().code(), Code::kInvalidArgument) << q.DebugString();
  }
}

TEST(NodeJoinTest, AGoodJoinSpendsAUse) {
  auto t = Token();
  pb::TokenRequest r;
  r.set_uses(2);
  auto row = NewTokenRow(r, t, kNow);
  auto used = AdmitJoin(*row, Request(t, "far1"), kNow + 1);
  ASSERT_TRUE(used.ok()) << used.status().ToString();
  EXPECT_EQ(used->uses_left, 1);
  used = AdmitJoin(*used, Request(t, "far2"), kNow + 2);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(used->uses_left, 0);
  auto again = AdmitJoin(*used, Request(t, "far3"), kNow + 3);
  EXPECT_EQ(again.status().code(), Code::kPermissionDenied);
  EXPECT_NE(again.status().message().find("has been used"), std::string::npos);
}

TEST(NodeJoinTest, RefusalsSayWhyOnlyToAHolderOfTheSecret) {
  auto t = Token();
  pb::TokenRequest r;
  r.set_ttl_s(10);
  r.set_node("far1");
  auto row = *NewTokenRow(r, t, kNow);
  auto message = [&](const std::optional<state::TokenRow>& tok, const pb::JoinRequest& q,
                     int64_t now) {
    auto a = AdmitJoin(tok, q, now);
    EXPECT_EQ(a.status().code(), Code::kPermissionDenied);
    return a.status().message();
  };
  EXPECT_NE(message(row, Request(t, "far1"), kNow + 10'000).find("expired"), std::string::npos);
  EXPECT_NE(message(row, Request(t, "far2"), kNow).find("admits node far1 only"),
            std::string::npos);
  // Without the secret: an unknown id, a proof by another secret, a proof over another key.
  auto other = Token();
  auto forged = Request(other, "far1");
  forged.set_token_id(t.id);
  auto swapped = Request(t, "far1");
  swapped.set_public_key("ANOTHER KEY");
  std::string invalid = message(std::nullopt, Request(t, "far1"), kNow);
  EXPECT_NE(invalid.find("not valid"), std::string::npos);
  EXPECT_EQ(message(row, forged, kNow), invalid);
  EXPECT_EQ(message(row, swapped, kNow), invalid);
  EXPECT_EQ(message(row, forged, kNow + 10'000), invalid) << "expiry told without the secret";
}

TEST(NodeJoinTest, ABadNameIsRefusedWithAnyToken) {
  auto t = Token();
  auto row = *NewTokenRow({}, t, kNow);
  EXPECT_EQ(AdmitJoin(row, Request(t, "-x"), kNow).status().code(), Code::kInvalidArgument);
}

// A node renews when its certificate predates the head's (`swell rotate`) or the CA that signs
// (a rollover), once the head's server has read its new files, or ends within a month.
TEST(NodeJoinTest, ANodeRenewsWhatARotationOrItsEndMakesOld) {
  tls::CaTimes t;
  t.signing = FromMillis(kNow - 3600'000);
  t.head = FromMillis(kNow - 60'000);
  const Time now = FromMillis(kNow);
  EXPECT_FALSE(NeedsRenewal(kNow - 30'000, t, now));
  EXPECT_FALSE(NeedsRenewal(kNow - 90'000, t, FromMillis(kNow - 57'000)))
      << "the head takes its new files first";
  EXPECT_TRUE(NeedsRenewal(kNow - 90'000, t, now)) << "issued before the head's";
  t.head = FromMillis(kNow - 7200'000);
  EXPECT_TRUE(NeedsRenewal(kNow - 5000'000, t, now)) << "issued before the signing CA";
  EXPECT_FALSE(NeedsRenewal(kNow - 3000'000, t, now));
  const int64_t day = 24 * 3600'000LL;
  t.signing = t.head = FromMillis(kNow - 400 * day);
  EXPECT_FALSE(NeedsRenewal(kNow - 300 * day, t, now)) << "65 days left";
  EXPECT_TRUE(NeedsRenewal(kNow - 340 * day, t, now)) << "25 days left";
}

TEST(NodeJoinTest, ARolloverWaitsForTheNodesUpOverTlsOnTheOldCa) {
  std::map<std::string, NodeEntry> nodes;
  auto add = [&](const std::string& name, bool up, int64_t issued) {
    nodes[name].up = up;
    nodes[name].cert_issued_ms = issued;
  };
  add("old", true, kNow - 10'000);
  add("renewed", true, kNow + 10'000);
  add("down-old", false, kNow - 10'000);
  add("local", true, 0);  // came over the unix socket: no certificate
  EXPECT_EQ(StillOnOldCa(nodes, FromMillis(kNow)), std::vector<std::string>{"old"});
}

}  // namespace
}  // namespace swell::head
