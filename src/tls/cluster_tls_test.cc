#include "tls/cluster_tls.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/files.h"
#include "testing/scratch.h"
#include "tls/certs.h"

namespace swell::tls {
namespace {

const Time kNow = FromMillis(1'800'000'000'000);

mode_t Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string Read(const std::string& path) { return ReadFile(path).value(); }

TEST(ClusterTlsTest, TheFirstStartMakesTheCaAndTheHeadsCertificatePrivately) {
  swell::testing::TempDir home;
  auto t = EnsureClusterTls(home.path(), kNow);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(Mode(t->dir), 0700u);
  EXPECT_EQ(Mode(t->ca_key), 0600u);
  EXPECT_EQ(Mode(t->head_key), 0600u);
  EXPECT_TRUE(Verify(Read(t->ca_cert), Read(t->head_cert), kNow).ok());
  auto head = Inspect(Read(t->head_cert));
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->dns, std::vector<std::string>{"swell-head"});
  EXPECT_TRUE(Inspect(Read(t->ca_cert))->is_ca);

  // Again: the same CA and head certificate; a key left readable by others is narrowed.
  std::string ca = Read(t->ca_cert), cert = Read(t->head_cert);
  ASSERT_EQ(chmod(t->ca_key.c_str(), 0644), 0);
  auto again = EnsureClusterTls(home.path(), kNow + std::chrono::hours(1));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Read(again->ca_cert), ca);
  EXPECT_EQ(Read(again->head_cert), cert);
  EXPECT_EQ(Mode(again->ca_key), 0600u);

  // Near its end (or no longer matching its key) the head's certificate is made anew.
  auto later = EnsureClusterTls(home.path(), kNow + std::chrono::hours(24 * 340));
  ASSERT_TRUE(later.ok());
  EXPECT_NE(Read(later->head_cert), cert);
  EXPECT_EQ(Read(later->ca_cert), ca);
}

TEST(ClusterTlsTest, ANodesFilesChainToTheClusterCa) {
  swell::testing::TempDir home;
  auto t = EnsureClusterTls(home.path(), kNow);
  ASSERT_TRUE(t.ok());
  auto f = IssueNodeFiles(*t, "n1", home.path() + "/nodes/n1/tls", kNow);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(Mode(home.path() + "/nodes/n1/tls"), 0700u);
  EXPECT_EQ(Mode(f->key), 0600u);
  EXPECT_EQ(Read(f->ca), Read(t->ca_cert));
  EXPECT_TRUE(Verify(Read(f->ca), Read(f->cert), kNow).ok());
  EXPECT_EQ(Inspect(Read(f->cert))->common_name, "node:n1");
  EXPECT_TRUE(KeyMatches(Read(f->cert), Read(f->key)).value());
}

// A joining node's or a user's key is made on their side; the head signs its public half, and
// the node keeps the result only if it chains to the CA and holds its key.
TEST(ClusterTlsTest, AKeyMadeElsewhereGetsACertificateKeptOnlyIfItIsRight) {
  swell::testing::TempDir home;
  auto t = EnsureClusterTls(home.path(), kNow);
  ASSERT_TRUE(t.ok());
  auto key = NewKey();
  auto issued = IssueClientCert(t->ca_cert, t->ca_key, "node:far1", *PublicKeyOf(*key), kNow);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(issued->ca_cert, Read(t->ca_cert));
  EXPECT_EQ(Inspect(issued->cert)->common_name, "node:far1");
  EXPECT_EQ(IssueClientCert(t->ca_cert, t->ca_key, "node:x", "not a key", kNow).status().code(),
            Code::kInvalidArgument);

  const std::string dir = home.path() + "/far1-tls";
  auto keep = [&](const std::string& name, const std::string& key_pem, const std::string& ca) {
    return KeepIssuedFiles(NodeFilesIn(dir), "node:" + name, key_pem, issued->cert, ca, kNow);
  };
  EXPECT_FALSE(keep("far2", *key, issued->ca_cert).ok());
  EXPECT_FALSE(keep("far1", *NewKey(), issued->ca_cert).ok());
  auto other_key = NewKey();
  auto other_ca = MakeCa(*other_key, "other", kNow, 1);
  EXPECT_FALSE(keep("far1", *key, *other_ca).ok());
  EXPECT_NE(access(dir.c_str(), F_OK), 0) << "nothing is written for a refusal";
  auto kept = keep("far1", *key, issued->ca_cert);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(Mode(dir), 0700u);
  EXPECT_EQ(Mode(kept->key), 0600u);
  EXPECT_EQ(Read(kept->cert), issued->cert);
}

// A CA rollover: a new CA signs from its start and both are trusted, so certificates of
// either chain; at its end only the new one is, and the head's certificate is of the new CA.
TEST(ClusterTlsTest, ACaRolloverTrustsBothCasUntilItEnds) {
  swell::testing::TempDir home;
  auto t = EnsureClusterTls(home.path(), kNow);
  ASSERT_TRUE(t.ok());
  const std::string old_ca = Read(t->ca_cert), head = Read(t->head_cert);
  auto old_leaf = IssueClientCert(t->ca_cert, t->ca_key, "node:a", *PublicKeyOf(*NewKey()), kNow);
  ASSERT_TRUE(old_leaf.ok());
  EXPECT_FALSE(FinishCaRollover(*t, kNow).ok()) << "no rollover is under way";

  const Time begun = kNow + std::chrono::hours(1);
  ASSERT_TRUE(BeginCaRollover(*t, begun).ok());
  auto cas = InspectAll(Read(t->ca_cert));
  ASSERT_TRUE(cas.ok());
  ASSERT_EQ(cas->size(), 2u);
  EXPECT_EQ(Read(t->ca_cert).substr(Read(t->ca_cert).size() - old_ca.size()), old_ca);
  EXPECT_EQ(Read(t->head_cert), head) << "every node still trusts the head's CA";
  EXPECT_FALSE(BeginCaRollover(*t, begun).ok()) << "one rollover at a time";
  auto times = ReadCaTimes(*t);
  ASSERT_TRUE(times.ok());
  EXPECT_EQ(times->cas, 2u);
  EXPECT_EQ(times->signing, cas->front().not_before + kBackdate);
  EXPECT_LT(times->oldest, times->signing);
  auto new_leaf = IssueClientCert(t->ca_cert, t->ca_key, "node:a", *PublicKeyOf(*NewKey()), begun);
  ASSERT_TRUE(new_leaf.ok());
  EXPECT_FALSE(Verify(old_ca, new_leaf->cert, begun).ok()) << "the new CA signs";
  EXPECT_TRUE(Verify(Read(t->ca_cert), new_leaf->cert, begun).ok());
  EXPECT_TRUE(Verify(Read(t->ca_cert), old_leaf->cert, begun).ok());
  EXPECT_TRUE(Verify(Read(t->ca_cert), head, begun).ok());

  ASSERT_TRUE(FinishCaRollover(*t, begun).ok());
  EXPECT_EQ(InspectAll(Read(t->ca_cert))->size(), 1u);
  EXPECT_TRUE(Verify(Read(t->ca_cert), new_leaf->cert, begun).ok());
  EXPECT_FALSE(Verify(Read(t->ca_cert), old_leaf->cert, begun).ok());
  EXPECT_TRUE(Verify(Read(t->ca_cert), Read(t->head_cert), begun).ok());
  EXPECT_TRUE(KeyMatches(Read(t->head_cert), Read(t->head_key)).value());
  EXPECT_EQ(ReadCaTimes(*t)->oldest, ReadCaTimes(*t)->signing);
  // A restart keeps all of it.
  auto again = EnsureClusterTls(home.path(), begun);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(Verify(Read(again->ca_cert), new_leaf->cert, begun).ok());
}

// A rollover cut off between its writes: the new CA's key, written aside first, is taken when
// ca.crt names its CA already and dropped when it does not.
TEST(ClusterTlsTest, ARolloverCutOffHalfWayIsSettledAtStart) {
  swell::testing::TempDir home;
  auto t = EnsureClusterTls(home.path(), kNow);
  ASSERT_TRUE(t.ok());
  const std::string next = t->dir + "/ca-next.key";
  const std::string key = *NewKey();
  // Cut off before the bundle: the old CA goes on.
  ASSERT_TRUE(WriteFileAtomic(next, key, 0600).ok());
  const std::string old_key = Read(t->ca_key);
  ASSERT_TRUE(EnsureClusterTls(home.path(), kNow).ok());
  EXPECT_NE(access(next.c_str(), F_OK), 0);
  EXPECT_EQ(Read(t->ca_key), old_key);
  // Cut off after the bundle: the new CA's key takes the old one's place.
  auto ca = MakeCa(key, "swell cluster CA", kNow, 10);
  ASSERT_TRUE(ca.ok());
  ASSERT_TRUE(WriteFileAtomic(next, key, 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(t->ca_cert, *ca + Read(t->ca_cert), 0644).ok());
  ASSERT_TRUE(EnsureClusterTls(home.path(), kNow).ok());
  EXPECT_NE(access(next.c_str(), F_OK), 0);
  EXPECT_EQ(Read(t->ca_key), key);
  EXPECT_EQ(Mode(t->ca_key), 0600u);
  auto leaf = IssueClientCert(t->ca_cert, t->ca_key, "node:a", *PublicKeyOf(*NewKey()), kNow);
  ASSERT_TRUE(leaf.ok());
  EXPECT_TRUE(Verify(*ca, leaf->cert, kNow).ok());
}

}  // namespace
}  // namespace swell::tls
