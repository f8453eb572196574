#include "tls/certs.h"

#include <gtest/gtest.h>

namespace swell::tls {
namespace {

const Time kNow = FromMillis(1'800'000'000'000);

struct Ca {
  std::string key, cert;
};

Ca MakeTestCa() {
  auto key = NewKey();
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  auto cert = MakeCa(*key, "swell test CA", kNow, 10);
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  return {*key, *cert};
}

TEST(CertsTest, ACaIssuesAServerCertificateThatVerifies) {
  Ca ca = MakeTestCa();
  auto ca_info = Inspect(ca.cert);
  ASSERT_TRUE(ca_info.ok()) << ca_info.status().ToString();
  EXPECT_TRUE(ca_info->is_ca);
  EXPECT_EQ(ca_info->common_name, "swell test CA");

  auto key = NewKey();
  ASSERT_TRUE(key.ok());
  auto pub = PublicKeyOf(*key);
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_NE(pub->find("BEGIN PUBLIC KEY"), std::string::npos);
  CertRequest r;
  r.public_key = *pub;
  r.common_name = "head";
  r.dns = {"head.example", "localhost"};
  r.ips = {"10.213.0.1", "::1"};
  r.server = true;
  r.days = 30;
  auto cert = Issue(ca.cert, ca.key, r, kNow);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  auto info = Inspect(*cert);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "head");
  EXPECT_FALSE(info->is_ca);
  EXPECT_EQ(info->dns, (std::vector<std::string>{"head.example", "localhost"}));
  EXPECT_EQ(info->ips, (std::vector<std::string>{"10.213.0.1", "::1"}));
  EXPECT_EQ(info->not_after - info->not_before,
            std::chrono::hours(24 * 30) + std::chrono::minutes(1));
  EXPECT_EQ(info->serial.size(), 32u);  // 128 bits, hex
  EXPECT_TRUE(Verify(ca.cert, *cert, kNow).ok());
  EXPECT_TRUE(KeyMatches(*cert, *key).value());
  // Two certificates never share a serial.
  auto again = Issue(ca.cert, ca.key, r, kNow);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(Inspect(*again)->serial, info->serial);
}

TEST(CertsTest, AnotherCasCertificateOrAnExpiredOneIsRefused) {
  Ca ca = MakeTestCa(), other = MakeTestCa();
  auto key = NewKey();
  ASSERT_TRUE(key.ok());
  CertRequest r;
  r.public_key = *PublicKeyOf(*key);
  r.common_name = "node:n1";
  r.client = true;
  r.days = 1;
  auto cert = Issue(other.cert, other.key, r, kNow);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  Status s = Verify(ca.cert, *cert, kNow);
  EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.ToString();
  EXPECT_TRUE(Verify(other.cert, *cert, kNow).ok());
  s = Verify(other.cert, *cert, kNow + std::chrono::hours(25));
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_NE(s.message().find("expired"), std::string::npos) << s.ToString();
  auto wrong = NewKey();
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(KeyMatches(*cert, *wrong).value());
}

TEST(CertsTest, BadInputIsRefusedClearly) {
  Ca ca = MakeTestCa();
  CertRequest r;
  r.public_key = *PublicKeyOf(*NewKey());
  r.common_name = "x";
  r.client = true;
  EXPECT_TRUE(Issue(ca.cert, ca.key, r, kNow).ok());
  auto bad = [&](CertRequest b) { return Issue(ca.cert, ca.key, b, kNow).status().code(); };
  CertRequest b = r;
  b.common_name = std::string(65, 'a');
  EXPECT_EQ(bad(b), Code::kInvalidArgument);
  b = r;
  b.common_name = "a\nb";
  EXPECT_EQ(bad(b), Code::kInvalidArgument);
  b = r;
  b.ips = {"10.0.0.256"};
  EXPECT_EQ(bad(b), Code::kInvalidArgument);
  b = r;
  b.dns = {"a b"};
  EXPECT_EQ(bad(b), Code::kInvalidArgument);
  b = r;
  b.public_key = "junk";
  EXPECT_EQ(bad(b), Code::kInvalidArgument);
  b = r;
  b.client = false;
  EXPECT_EQ(bad(b), Code::kInvalidArgument);
  b = r;
  b.days = 0;
  EXPECT_EQ(bad(b), Code::kInvalidArgument);
  EXPECT_EQ(
      Inspect("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").status().code(),
      Code::kInvalidArgument);
  EXPECT_EQ(Inspect(std::string(100000, 'x')).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(PublicKeyOf("").status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace swell::tls
