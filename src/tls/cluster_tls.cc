#include "tls/cluster_tls.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "common/files.h"
#include "tls/certs.h"

namespace swell::tls {
namespace {

constexpr int kCaDays = 3650;
constexpr size_t kMaxPem = 64 * 1024;

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// A directory of its owner's only (made if missing).
Status PrivateDir(const std::string& dir) {
  SWELL_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  if (chmod(dir.c_str(), 0700) != 0) return Unavailable("chmod " + dir);
  return Status::Ok();
}

// A new key and a certificate for it, written as `key_path` (0600) and `cert_path` (0644).
Status IssueFiles(const std::string& ca_cert, const std::string& ca_key, CertRequest request,
                  const std::string& cert_path, const std::string& key_path, Time now) {
  SWELL_ASSIGN_OR_RETURN(std::string key, NewKey());
  SWELL_ASSIGN_OR_RETURN(request.public_key, PublicKeyOf(key));
  SWELL_ASSIGN_OR_RETURN(std::string cert, Issue(ca_cert, ca_key, request, now));
  SWELL_RETURN_IF_ERROR(WriteFileAtomic(key_path, key, 0600));
  return WriteFileAtomic(cert_path, cert, 0644);
}

Status IssueHeadFiles(const ClusterTls& t, Time now) {
  SWELL_ASSIGN_OR_RETURN(std::string ca_cert, ReadFile(t.ca_cert, kMaxPem));
  SWELL_ASSIGN_OR_RETURN(std::string ca_key, ReadFile(t.ca_key, kMaxPem));
  CertRequest r;
  r.common_name = "swell head";
  r.dns = {"swell-head"};
  r.server = true;
  r.days = kLeafDays;
  return IssueFiles(ca_cert, ca_key, r, t.head_cert, t.head_key, now);
}

// The first certificate of a PEM bundle, as text.
std::string FirstPem(const std::string& bundle) {
  static constexpr char kEnd[] = "-----END CERTIFICATE-----";
  auto end = bundle.find(kEnd);
  return end == std::string::npos ? bundle : bundle.substr(0, end + sizeof kEnd - 1) + "\n";
}

std::string NextKeyPath(const ClusterTls& t) { return t.dir + "/ca-next.key"; }

// A rollover cut off between its writes (BeginCaRollover): the new key is kept when ca.crt
// names its CA already, else dropped.
Status SettleRollover(const ClusterTls& t) {
  const std::string next = NextKeyPath(t);
  if (!Exists(next)) return Status::Ok();
  if (!Exists(t.ca_cert)) return unlink(next.c_str()) == 0 ? Status::Ok() : Unavailable(next);
  SWELL_ASSIGN_OR_RETURN(std::string key, ReadFile(next, kMaxPem));
  SWELL_ASSIGN_OR_RETURN(std::string cas, ReadFile(t.ca_cert, kMaxPem));
  auto matches = KeyMatches(cas, key);
  if (matches.ok() && *matches) {
    if (rename(next.c_str(), t.ca_key.c_str()) != 0) return Unavailable("rename " + next);
  } else {
    unlink(next.c_str());
  }
  return Status::Ok();
}

}  // namespace

Result<ClusterTls> EnsureClusterTls(const std::string& home, Time now) {
  ClusterTls t;
  t.dir = home + "/tls";
  t.ca_cert = t.dir + "/ca.crt";
  t.ca_key = t.dir + "/ca.key";
  t.head_cert = t.dir + "/head.crt";
  t.head_key = t.dir + "/head.key";
  SWELL_RETURN_IF_ERROR(PrivateDir(t.dir));
  SWELL_RETURN_IF_ERROR(SettleRollover(t));
  if (!Exists(t.ca_key) || !Exists(t.ca_cert)) {
    SWELL_ASSIGN_OR_RETURN(std::string key, NewKey());
    SWELL_ASSIGN_OR_RETURN(std::string cert, MakeCa(key, "swell cluster CA", now, kCaDays));
    SWELL_RETURN_IF_ERROR(WriteFileAtomic(t.ca_key, key, 0600));
    SWELL_RETURN_IF_ERROR(WriteFileAtomic(t.ca_cert, cert, 0644));
    unlink(t.head_cert.c_str());  // the old head certificate chains to nothing any more
  }
  for (const auto& key : {t.ca_key, t.head_key})
    if (Exists(key)) SWELL_RETURN_IF_ERROR(KeepPrivate(key));
  SWELL_ASSIGN_OR_RETURN(std::string ca_cert, ReadFile(t.ca_cert, kMaxPem));
  SWELL_RETURN_IF_ERROR(ReadFile(t.ca_key, kMaxPem).status());
  bool head_ok = false;
  if (Exists(t.head_cert) && Exists(t.head_key)) {
    SWELL_ASSIGN_OR_RETURN(std::string cert, ReadFile(t.head_cert, kMaxPem));
    SWELL_ASSIGN_OR_RETURN(std::string key, ReadFile(t.head_key, kMaxPem));
    auto matches = KeyMatches(cert, key);
    // Renewed a month before it ends (a head runs for weeks).
    head_ok =
        Verify(ca_cert, cert, now + std::chrono::hours(24 * 30)).ok() && matches.ok() && *matches;
  }
  if (!head_ok) SWELL_RETURN_IF_ERROR(IssueHeadFiles(t, now));
  return t;
}

Result<CaTimes> ReadCaTimes(const ClusterTls& t) {
  SWELL_ASSIGN_OR_RETURN(std::string cas, ReadFile(t.ca_cert, kMaxPem));
  SWELL_ASSIGN_OR_RETURN(auto infos, InspectAll(cas));
  SWELL_ASSIGN_OR_RETURN(std::string head, ReadFile(t.head_cert, kMaxPem));
  SWELL_ASSIGN_OR_RETURN(CertInfo head_info, Inspect(head));
  CaTimes out;
  out.cas = infos.size();
  out.signing = infos.front().not_before + kBackdate;
  out.oldest = out.signing;
  for (const auto& ca : infos) out.oldest = std::min(out.oldest, ca.not_before + kBackdate);
  out.head = head_info.not_before + kBackdate;
  out.head_ends = head_info.not_after;
  return out;
}

Status RenewHeadCert(const ClusterTls& t, Time now) { return IssueHeadFiles(t, now); }

Status BeginCaRollover(const ClusterTls& t, Time now) {
  SWELL_ASSIGN_OR_RETURN(std::string old_ca, ReadFile(t.ca_cert, kMaxPem));
  SWELL_ASSIGN_OR_RETURN(auto infos, InspectAll(old_ca));
  if (infos.size() != 1)
    return InvalidArgument(
        "a CA rollover is under way already: end it first (swell rotate --finish)");
  SWELL_ASSIGN_OR_RETURN(std::string key, NewKey());
  SWELL_ASSIGN_OR_RETURN(std::string cert, MakeCa(key, "swell cluster CA", now, kCaDays));
  // The key first, aside; then the bundle (the new CA first: it signs); then the key in place.
  // EnsureClusterTls settles a rollover cut off between them (SettleRollover).
  const std::string next = NextKeyPath(t);
  SWELL_RETURN_IF_ERROR(WriteFileAtomic(next, key, 0600));
  SWELL_RETURN_IF_ERROR(WriteFileAtomic(t.ca_cert, cert + FirstPem(old_ca), 0644));
  if (rename(next.c_str(), t.ca_key.c_str()) != 0) return Unavailable("rename " + next);
  return Status::Ok();
}

Status FinishCaRollover(const ClusterTls& t, Time now) {
  SWELL_ASSIGN_OR_RETURN(std::string cas, ReadFile(t.ca_cert, kMaxPem));
  SWELL_ASSIGN_OR_RETURN(auto infos, InspectAll(cas));
  if (infos.size() < 2)
    return InvalidArgument("no CA rollover is under way (swell rotate --new-ca starts one)");
  SWELL_RETURN_IF_ERROR(WriteFileAtomic(t.ca_cert, FirstPem(cas), 0644));
  return IssueHeadFiles(t, now);
}

NodeTlsFiles NodeFilesIn(const std::string& dir) {
  return {dir + "/ca.crt", dir + "/node.crt", dir + "/node.key"};
}

Result<NodeTlsFiles> IssueNodeFiles(const ClusterTls& cluster, const std::string& name,
                                    const std::string& dir, Time now) {
  SWELL_RETURN_IF_ERROR(PrivateDir(dir));
  SWELL_ASSIGN_OR_RETURN(std::string ca_cert, ReadFile(cluster.ca_cert, kMaxPem));
  SWELL_ASSIGN_OR_RETURN(std::string ca_key, ReadFile(cluster.ca_key, kMaxPem));
  NodeTlsFiles f = NodeFilesIn(dir);
  CertRequest r;
  r.common_name = "node:" + name;
  r.client = true;
  r.days = kLeafDays;
  SWELL_RETURN_IF_ERROR(IssueFiles(ca_cert, ca_key, r, f.cert, f.key, now));
  SWELL_RETURN_IF_ERROR(WriteFileAtomic(f.ca, ca_cert, 0644));
  return f;
}

Result<IssuedCert> IssueClientCert(const std::string& ca_cert, const std::string& ca_key,
                                   const std::string& common_name, const std::string& public_key,
                                   Time now) {
  IssuedCert out;
  SWELL_ASSIGN_OR_RETURN(out.ca_cert, ReadFile(ca_cert, kMaxPem));
  SWELL_ASSIGN_OR_RETURN(std::string key, ReadFile(ca_key, kMaxPem));
  CertRequest r;
  r.public_key = public_key;
  r.common_name = common_name;
  r.client = true;
  r.days = kLeafDays;
  SWELL_ASSIGN_OR_RETURN(out.cert, Issue(out.ca_cert, key, r, now));
  return out;
}

Result<NodeTlsFiles> KeepIssuedFiles(const NodeTlsFiles& to, const std::string& common_name,
                                     const std::string& key_pem, const std::string& cert_pem,
                                     const std::string& ca_pem, Time now) {
  SWELL_RETURN_IF_ERROR(Verify(ca_pem, cert_pem, now));
  SWELL_ASSIGN_OR_RETURN(CertInfo info, Inspect(cert_pem));
  SWELL_ASSIGN_OR_RETURN(bool holds_key, KeyMatches(cert_pem, key_pem));
  if ((!common_name.empty() && info.common_name != common_name) || !holds_key)
    return PermissionDenied("the certificate the head sent is for '" + info.common_name +
                            "', not this key" +
                            (common_name.empty() ? std::string() : " as '" + common_name + "'"));
  SWELL_RETURN_IF_ERROR(PrivateDir(std::filesystem::path(to.key).parent_path().string()));
  SWELL_RETURN_IF_ERROR(WriteFileAtomic(to.key, key_pem, 0600));
  SWELL_RETURN_IF_ERROR(WriteFileAtomic(to.ca, ca_pem, 0644));
  SWELL_RETURN_IF_ERROR(WriteFileAtomic(to.cert, cert_pem, 0644));
  return to;
}

}  // namespace swell::tls
