#pragma once

// The cluster's TLS files in $SWELL_HOME/tls (docs/security.md):
//
//   tls/            0700
//     ca.key        0600  the cluster CA's key: never leaves the head's host
//     ca.crt              the CA's certificate (10 years): what every side checks the other by
//     head.key      0600  the head's key
//     head.crt            the head's certificate, for the name "swell-head" (1 year)
//
// and a node's, made by the head for the nodes of its own providers (their files are on this
// host), in $SWELL_HOME/nodes/<name>/tls/ (0700): node.key (0600), node.crt ("node:<name>",
// 1 year), ca.crt.

#include <string>

#include "common/clock.h"
#include "common/status.h"

namespace swell::tls {

// How long the certificates of the head, nodes and users are valid.
inline constexpr int kLeafDays = 365;

struct ClusterTls {
  std::string dir;                                   // $SWELL_HOME/tls
  std::string ca_cert, ca_key, head_cert, head_key;  // paths
};

// Makes what is missing (the first `swell up` with TCP); narrows modes that are too wide (with
// a warning); settles a CA rollover cut off half-way. An error when a file is unreadable, or the
// head's certificate does not chain to the CA or no longer matches its key.
Result<ClusterTls> EnsureClusterTls(const std::string& home, Time now);

// Rotation (docs/security.md, "Rotating certificates"). ca.crt holds the CA that signs, and
// during a CA rollover the one before it after it: a certificate of either is trusted. The
// times are those of issue (notBefore plus kBackdate).
struct CaTimes {
  Time signing;    // the CA that signs now was made
  Time oldest;     // the oldest CA trusted was made: a certificate issued before chains to none
  Time head;       // the head's certificate was issued
  Time head_ends;  // and ends
  size_t cas = 1;  // 2 during a rollover
};
Result<CaTimes> ReadCaTimes(const ClusterTls& t);
// A new key and certificate for the head, of the CA that signs.
Status RenewHeadCert(const ClusterTls& t, Time now);
// Starts a CA rollover: a new CA signs from now on, and ca.crt holds it and the old one. The
// head's certificate stays (every node trusts its CA). InvalidArgument while one is under way.
Status BeginCaRollover(const ClusterTls& t, Time now);
// Ends it: ca.crt holds the new CA only, and the head gets a certificate of it.
// InvalidArgument when none is under way.
Status FinishCaRollover(const ClusterTls& t, Time now);

// The paths of a node's files in `dir`.
struct NodeTlsFiles {
  std::string ca, cert, key;
};
NodeTlsFiles NodeFilesIn(const std::string& dir);

// Issues node `name` a new key and certificate into `dir` (made 0700), with the CA's
// certificate beside them.
Result<NodeTlsFiles> IssueNodeFiles(const ClusterTls& cluster, const std::string& name,
                                    const std::string& dir, Time now);

// A client certificate for `common_name` ("node:<name>", "user:<name>") on `public_key`, signed
// with the CA's files (`ca_cert`, `ca_key`: paths), for a key made elsewhere (a joining node's,
// a user's). InvalidArgument for a bad key.
struct IssuedCert {
  std::string ca_cert, cert;  // PEM
};
Result<IssuedCert> IssueClientCert(const std::string& ca_cert, const std::string& ca_key,
                                   const std::string& common_name, const std::string& public_key,
                                   Time now);

// Keeps a key made here and the certificate the head issued for it (a joined node's, tls/join.h;
// a user's, `swell cert`) with the CA's, at `to` (their directory made 0700, the key 0600).
// PermissionDenied, and nothing written, unless the certificate chains to the CA, holds the key
// and (when `common_name` is given) names it.
Result<NodeTlsFiles> KeepIssuedFiles(const NodeTlsFiles& to, const std::string& common_name,
                                     const std::string& key_pem, const std::string& cert_pem,
                                     const std::string& ca_pem, Time now);

}  // namespace swell::tls
