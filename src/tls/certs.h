#pragma once

// The cluster's certificates (docs/security.md): a cluster CA made by `swell up`, and the
// certificates it issues to the head (server), to nodes and to users (clients). EC P-256 keys,
// SHA-256 signatures, PEM text throughout. OpenSSL's libcrypto does the work; nothing here
// touches a file or the network. Thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace swell::tls {

// A new EC P-256 private key (PKCS#8 PEM).
Result<std::string> NewKey();
// The public key of a private key (SubjectPublicKeyInfo PEM).
Result<std::string> PublicKeyOf(const std::string& key_pem);

// A self-signed CA certificate for `key_pem`: CN=`name`, CA:TRUE, keyCertSign and cRLSign,
// valid from `now` (less a minute for clocks a little behind) for `days`.
Result<std::string> MakeCa(const std::string& key_pem, const std::string& name, Time now, int days);

struct CertRequest {
  std::string public_key;  // SubjectPublicKeyInfo PEM of the holder's key
  std::string common_name;
  std::vector<std::string> dns;  // subjectAltName DNS entries
  std::vector<std::string> ips;  // subjectAltName IP entries (IPv4 or IPv6 text)
  bool server = false;           // extendedKeyUsage serverAuth
  bool client = false;           // extendedKeyUsage clientAuth
  int days = 365;
};

// How far before its issue a certificate's validity starts (clocks a little behind still take
// it): its notBefore plus kBackdate is when it was issued, which revocation compares with.
inline constexpr std::chrono::seconds kBackdate{60};

// A certificate for `request` signed by the CA (`ca_cert`, `ca_key`: PEM), with a random
// 128-bit serial; InvalidArgument for a bad key, name or address.
Result<std::string> Issue(const std::string& ca_cert, const std::string& ca_key,
                          const CertRequest& request, Time now);

struct CertInfo {
  std::string common_name;
  std::string serial;  // hex, upper case
  Time not_before, not_after;
  std::vector<std::string> dns, ips;
  bool is_ca = false;
};

// What a certificate says (the first one of a PEM chain).
Result<CertInfo> Inspect(const std::string& cert_pem);
// What every certificate of a PEM text says, in order (a CA bundle: docs/security.md).
Result<std::vector<CertInfo>> InspectAll(const std::string& pem);
// Ok when `cert_pem` was signed by a CA of `ca_pem` (one certificate, or a bundle of them
// during a CA rollover) and is valid at `now`; PermissionDenied otherwise.
Status Verify(const std::string& ca_pem, const std::string& cert_pem, Time now);
// Whether `cert_pem` holds the public key of `key_pem`.
Result<bool> KeyMatches(const std::string& cert_pem, const std::string& key_pem);

}  // namespace swell::tls
