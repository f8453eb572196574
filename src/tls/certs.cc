#include "tls/certs.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <memory>

namespace swell::tls {
namespace {

template <typename T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using Bio = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;
using Key = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Free<X509, X509_free>>;
using Bn = std::unique_ptr<BIGNUM, Free<BIGNUM, BN_free>>;
using Store = std::unique_ptr<X509_STORE, Free<X509_STORE, X509_STORE_free>>;
using StoreCtx = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX, X509_STORE_CTX_free>>;
using Names = std::unique_ptr<GENERAL_NAMES, Free<GENERAL_NAMES, GENERAL_NAMES_free>>;

constexpr size_t kMaxPem = 64 * 1024;
constexpr int kMaxDays = 100 * 365;

// OpenSSL's last error, for a message; the queue is emptied.
std::string SslError() {
  char buf[256] = "unknown error";
  unsigned long e = ERR_get_error();
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

Status Failed(const std::string& what) { return Internal(what + ": " + SslError()); }

Result<Bio> Reader(const std::string& pem, const char* what) {
  if (pem.empty() || pem.size() > kMaxPem)
    return InvalidArgument(std::string(what) + ": not a PEM text of at most 64 KiB");
  Bio b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!b) return Failed("BIO_new_mem_buf");
  return b;
}

Result<std::string> Drain(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  if (n <= 0) return Failed("BIO_get_mem_data");
  return std::string(data, static_cast<size_t>(n));
}

Result<Key> ReadKey(const std::string& pem) {
  SWELL_ASSIGN_OR_RETURN(Bio b, Reader(pem, "private key"));
  Key k(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
  if (!k) return InvalidArgument("not a PEM private key: " + SslError());
  return k;
}

Result<Key> ReadPublicKey(const std::string& pem) {
  SWELL_ASSIGN_OR_RETURN(Bio b, Reader(pem, "public key"));
  Key k(PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr));
  if (!k) return InvalidArgument("not a PEM public key: " + SslError());
  return k;
}

Result<Cert> ReadCert(const std::string& pem) {
  SWELL_ASSIGN_OR_RETURN(Bio b, Reader(pem, "certificate"));
  Cert c(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  if (!c) return InvalidArgument("not a PEM certificate: " + SslError());
  return c;
}

// Every certificate of a PEM text (a CA bundle holds more than one).
Result<std::vector<Cert>> ReadCerts(const std::string& pem) {
  SWELL_ASSIGN_OR_RETURN(Bio b, Reader(pem, "certificate"));
  std::vector<Cert> out;
  while (Cert c{PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr)}) out.push_back(std::move(c));
  ERR_clear_error();  // the end of the text
  if (out.empty()) return InvalidArgument("not a PEM certificate");
  return out;
}

Result<std::string> CertPem(X509* c) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_X509(b.get(), c) != 1) return Failed("PEM_write_bio_X509");
  return Drain(b.get());
}

// A name is printable text of 1-64 characters (X.509's bound for a common name).
Status CheckName(const std::string& name) {
  if (name.empty() || name.size() > 64 ||
      std::any_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    return InvalidArgument("a certificate name must be 1-64 printable characters: '" + name + "'");
  return Status::Ok();
}

Status CheckDns(const std::string& dns) {
  bool ok =
      !dns.empty() && dns.size() <= 253 && std::all_of(dns.begin(), dns.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '.' || c == '*';
      });
  return ok ? Status::Ok() : InvalidArgument("not a DNS name: '" + dns + "'");
}

Status CheckIp(const std::string& ip) {
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1 || inet_pton(AF_INET6, ip.c_str(), buf) == 1)
    return Status::Ok();
  return InvalidArgument("not an IP address: '" + ip + "'");
}

// Version 3, a random positive 128-bit serial, validity, subject CN=`cn`.
Status Basics(X509* c, const std::string& cn, Time now, int days) {
  if (days < 1 || days > kMaxDays) return InvalidArgument("validity must be 1-36500 days");
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) return Failed("RAND_bytes");
  raw[0] &= 0x7f;
  raw[0] |= 0x40;  // positive, and 16 bytes long
  Bn serial(BN_bin2bn(raw, sizeof raw, nullptr));
  if (!serial || X509_set_version(c, 2) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(c)) == nullptr)
    return Failed("serial");
  time_t t = static_cast<time_t>(ToMillis(now) / 1000);
  const long back = -static_cast<long>(kBackdate.count());
  if (ASN1_TIME_adj(X509_getm_notBefore(c), t, 0, back) == nullptr ||
      ASN1_TIME_adj(X509_getm_notAfter(c), t, days, 0) == nullptr)
    return Failed("validity");
  X509_NAME* name = X509_get_subject_name(c);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1)
    return Failed("subject");
  return Status::Ok();
}

Status AddExtension(X509* c, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, c, nullptr, nullptr, 0);
  X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (e == nullptr) return Failed("extension " + value);
  int ok = X509_add_ext(c, e, -1);
  X509_EXTENSION_free(e);
  return ok == 1 ? Status::Ok() : Failed("X509_add_ext");
}

Result<Time> TimeOf(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return Failed("ASN1_TIME_to_tm");
  return FromMillis(static_cast<int64_t>(timegm(&tm)) * 1000);
}

}  // namespace

Result<std::string> NewKey() {
  Key k(EVP_EC_gen("P-256"));
  if (!k) return Failed("EVP_EC_gen");
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PrivateKey(b.get(), k.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return Failed("PEM_write_bio_PrivateKey");
  return Drain(b.get());
}

Result<std::string> PublicKeyOf(const std::string& key_pem) {
  SWELL_ASSIGN_OR_RETURN(Key k, ReadKey(key_pem));
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PUBKEY(b.get(), k.get()) != 1) return Failed("PEM_write_bio_PUBKEY");
  return Drain(b.get());
}

Result<std::string> MakeCa(const std::string& key_pem, const std::string& name, Time now,
                           int days) {
  SWELL_RETURN_IF_ERROR(CheckName(name));
  SWELL_ASSIGN_OR_RETURN(Key k, ReadKey(key_pem));
  Cert c(X509_new());
  if (!c) return Failed("X509_new");
  SWELL_RETURN_IF_ERROR(Basics(c.get(), name, now, days));
  if (X509_set_issuer_name(c.get(), X509_get_subject_name(c.get())) != 1 ||
      X509_set_pubkey(c.get(), k.get()) != 1)
    return Failed("CA certificate");
  SWELL_RETURN_IF_ERROR(AddExtension(c.get(), c.get(), NID_basic_constraints, "critical,CA:TRUE"));
  SWELL_RETURN_IF_ERROR(
      AddExtension(c.get(), c.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  SWELL_RETURN_IF_ERROR(AddExtension(c.get(), c.get(), NID_subject_key_identifier, "hash"));
  if (X509_sign(c.get(), k.get(), EVP_sha256()) == 0) return Failed("X509_sign");
  return CertPem(c.get());
}

Result<std::string> Issue(const std::string& ca_cert, const std::string& ca_key,
                          const CertRequest& request, Time now) {
  SWELL_RETURN_IF_ERROR(CheckName(request.common_name));
  for (const auto& d : request.dns) SWELL_RETURN_IF_ERROR(CheckDns(d));
  for (const auto& ip : request.ips) SWELL_RETURN_IF_ERROR(CheckIp(ip));
  if (!request.server && !request.client)
    return InvalidArgument("a certificate is for a server, a client or both");
  SWELL_ASSIGN_OR_RETURN(Cert ca, ReadCert(ca_cert));
  SWELL_ASSIGN_OR_RETURN(Key ca_k, ReadKey(ca_key));
  SWELL_ASSIGN_OR_RETURN(Key subject, ReadPublicKey(request.public_key));
  Cert c(X509_new());
  if (!c) return Failed("X509_new");
  SWELL_RETURN_IF_ERROR(Basics(c.get(), request.common_name, now, request.days));
  if (X509_set_issuer_name(c.get(), X509_get_subject_name(ca.get())) != 1 ||
      X509_set_pubkey(c.get(), subject.get()) != 1)
    return Failed("certificate");
  SWELL_RETURN_IF_ERROR(
      AddExtension(c.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE"));
  SWELL_RETURN_IF_ERROR(
      AddExtension(c.get(), ca.get(), NID_key_usage, "critical,digitalSignature"));
  std::string eku = request.server && request.client ? "serverAuth,clientAuth"
                    : request.server                 ? "serverAuth"
                                                     : "clientAuth";
  SWELL_RETURN_IF_ERROR(AddExtension(c.get(), ca.get(), NID_ext_key_usage, eku));
  std::string san;
  for (const auto& d : request.dns) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  for (const auto& ip : request.ips) san += (san.empty() ? "IP:" : ",IP:") + ip;
  if (!san.empty())
    SWELL_RETURN_IF_ERROR(AddExtension(c.get(), ca.get(), NID_subject_alt_name, san));
  SWELL_RETURN_IF_ERROR(AddExtension(c.get(), ca.get(), NID_subject_key_identifier, "hash"));
  SWELL_RETURN_IF_ERROR(
      AddExtension(c.get(), ca.get(), NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(c.get(), ca_k.get(), EVP_sha256()) == 0) return Failed("X509_sign");
  return CertPem(c.get());
}

namespace {

Result<CertInfo> InfoOf(const Cert& c) {
  CertInfo info;
  X509_NAME* name = X509_get_subject_name(c.get());
  int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (at >= 0) {
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at)));
    if (n >= 0) info.common_name.assign(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
    OPENSSL_free(utf8);
  }
  Bn serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(c.get()), nullptr));
  if (!serial) return Failed("serial");
  char* hex = BN_bn2hex(serial.get());
  if (hex == nullptr) return Failed("BN_bn2hex");
  info.serial = hex;
  OPENSSL_free(hex);
  SWELL_ASSIGN_OR_RETURN(info.not_before, TimeOf(X509_get0_notBefore(c.get())));
  SWELL_ASSIGN_OR_RETURN(info.not_after, TimeOf(X509_get0_notAfter(c.get())));
  info.is_ca = X509_check_ca(c.get()) != 0;
  Names sans(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(c.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans.get(), i);
    if (g->type == GEN_DNS) {
      const ASN1_IA5STRING* s = g->d.dNSName;
      info.dns.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                            static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (g->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = g->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      int len = ASN1_STRING_length(s);
      if (len == 4 || len == 16)
        inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof text);
      info.ips.emplace_back(text);
    }
  }
  return info;
}

}  // namespace

Result<CertInfo> Inspect(const std::string& cert_pem) {
  SWELL_ASSIGN_OR_RETURN(Cert c, ReadCert(cert_pem));
  return InfoOf(c);
}

Result<std::vector<CertInfo>> InspectAll(const std::string& pem) {
  SWELL_ASSIGN_OR_RETURN(std::vector<Cert> certs, ReadCerts(pem));
  std::vector<CertInfo> out;
  for (const auto& c : certs) {
    SWELL_ASSIGN_OR_RETURN(CertInfo info, InfoOf(c));
    out.push_back(std::move(info));
  }
  return out;
}

Status Verify(const std::string& ca_pem, const std::string& cert_pem, Time now) {
  SWELL_ASSIGN_OR_RETURN(std::vector<Cert> cas, ReadCerts(ca_pem));
  SWELL_ASSIGN_OR_RETURN(Cert c, ReadCert(cert_pem));
  Store store(X509_STORE_new());
  StoreCtx ctx(X509_STORE_CTX_new());
  if (!store || !ctx) return Failed("X509_STORE");
  for (const auto& ca : cas)
    if (X509_STORE_add_cert(store.get(), ca.get()) != 1) return Failed("X509_STORE_add_cert");
  if (X509_STORE_CTX_init(ctx.get(), store.get(), c.get(), nullptr) != 1)
    return Failed("X509_STORE_CTX_init");
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(ToMillis(now) / 1000));
  if (X509_verify_cert(ctx.get()) != 1)
    return PermissionDenied(std::string("certificate not accepted: ") +
                            X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  return Status::Ok();
}

Result<bool> KeyMatches(const std::string& cert_pem, const std::string& key_pem) {
  SWELL_ASSIGN_OR_RETURN(Cert c, ReadCert(cert_pem));
  SWELL_ASSIGN_OR_RETURN(Key k, ReadKey(key_pem));
  bool match = X509_check_private_key(c.get(), k.get()) == 1;
  ERR_clear_error();
  return match;
}

}  // namespace swell::tls
