// Credentials of nodes and users on other machines (docs/security.md): join tokens and joins,
// user certificates, renewal and rotation (`swell rotate`), revocation, and the check of every
// TLS caller (Admit). The pure rules are node_join.h's; the files are tls/cluster_tls.h's.

#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/log.h"
#include "head/head_impl.h"
#include "head/node_join.h"
#include "tls/certs.h"
#include "tls/cluster_tls.h"

namespace swell::head {

Result<pb::TokenReply> Head::Token(const rpc::Caller& who, const pb::TokenRequest& req) {
  SWELL_RETURN_IF_ERROR(MayMakeTokens(who, geteuid()));
  return impl_->OnLoop<pb::TokenReply>([&] { return impl_->DoToken(req); });
}

Result<pb::JoinReply> Head::Join(const rpc::Caller& who, const pb::JoinRequest& req) {
  return impl_->OnLoop<pb::JoinReply>([&] { return impl_->DoJoin(who, req); });
}

Result<pb::UserCertReply> Head::UserCert(const rpc::Caller& who, const pb::UserCertRequest& req) {
  if (!who.local || who.user.empty() || who.user == std::to_string(who.uid))
    return PermissionDenied(
        "a user certificate is given over the head's local socket only, to a user the kernel "
        "names and the host knows");
  const HeadOptions& o = impl_->options();
  if (o.ca_key.empty())
    return InvalidArgument(
        "users reach the head over TCP, and this cluster has none: set [cluster] tcp");
  // On the loop, as every use of the CA's files: a rotation changes them there.
  auto issued = impl_->OnLoop<tls::IssuedCert>([&] {
    return tls::IssueClientCert(o.tls.ca, o.ca_key, "user:" + who.user, req.public_key(),
                                impl_->clock()->Now());
  });
  if (!issued.ok()) return issued.status();
  LogInfo("head: a certificate for user %s (%s)", who.user.c_str(), who.peer.c_str());
  pb::UserCertReply reply;
  reply.set_ca_cert(std::move(issued->ca_cert));
  reply.set_cert(std::move(issued->cert));
  return reply;
}

Result<pb::RevokeReply> Head::Revoke(const rpc::Caller& who, const pb::RevokeRequest& req) {
  SWELL_RETURN_IF_ERROR(MayMakeTokens(who, geteuid()));
  const std::string& n = req.name();
  if ((n.rfind("node:", 0) != 0 && n.rfind("user:", 0) != 0) || n.size() <= 5 || n.size() > 256)
    return InvalidArgument("revoke what? node:NAME or user:NAME, not '" + n.substr(0, 64) + "'");
  return impl_->OnLoop<pb::RevokeReply>([&] { return impl_->DoRevoke(n); });
}

Status Head::Admit(const rpc::Caller& who) {
  if (who.cert_issued_ms == 0) return Status::Ok();
  const std::string cn = who.node.empty() ? "user:" + who.user : "node:" + who.node;
  // Issued before the oldest CA still trusted: by a CA a finished rollover retired.
  if (who.cert_issued_ms < impl_->oldest_ca_ms_.load())
    return PermissionDenied("the certificate of " + cn +
                            " is of a CA this cluster no longer trusts (`swell rotate`)");
  std::lock_guard<std::mutex> lock(impl_->revoked_mu_);
  auto it = impl_->revoked_.find(cn);
  if (it != impl_->revoked_.end() && who.cert_issued_ms <= it->second)
    return PermissionDenied("the certificate of " + cn + " was revoked (`swell revoke`)");
  return Status::Ok();
}

Result<pb::RenewReply> Head::Renew(const rpc::Caller& who, const pb::RenewRequest& req) {
  if (who.node.empty())
    return PermissionDenied("a node renews its certificate with the one it holds");
  return impl_->OnLoop<pb::RenewReply>([&] { return impl_->DoRenew(who.node, req); });
}

Result<pb::RotateReply> Head::Rotate(const rpc::Caller& who, const pb::RotateRequest& req) {
  SWELL_RETURN_IF_ERROR(MayMakeTokens(who, geteuid()));
  return impl_->OnLoop<pb::RotateReply>([&] { return impl_->DoRotate(req); });
}

Result<pb::TokenReply> Head::Impl::DoToken(const pb::TokenRequest& req) {
  if (opt_.ca_key.empty())
    return InvalidArgument(
        "nodes join over TCP, and this cluster has none: set [cluster] tcp (docs/security.md)");
  Time now = clock_->Now();
  SWELL_ASSIGN_OR_RETURN(auto token, tls::NewJoinToken());
  SWELL_ASSIGN_OR_RETURN(auto row, NewTokenRow(req, token, ToMillis(now)));
  Write(store_->PutToken(row));
  Event(now, "join_token", 0, row.node, "uses " + std::to_string(row.uses_left));
  pb::TokenReply reply;
  reply.set_token(token.text());
  reply.set_expires_ms(row.expires_ms);
  return reply;
}

Result<pb::JoinReply> Head::Impl::DoJoin(const rpc::Caller& who, const pb::JoinRequest& req) {
  if (opt_.ca_key.empty()) return InvalidArgument("this cluster takes no joins (no TCP link)");
  Time now = clock_->Now();
  auto token = store_->LoadToken(req.token_id());
  if (!token.ok()) return token.status();
  SWELL_ASSIGN_OR_RETURN(auto used, AdmitJoin(*token, req, ToMillis(now)));
  // A name the cluster uses already is not given to another machine.
  auto node = nodes_.find(req.name());
  if ((node != nodes_.end() && (node->second.up || !node->second.node_type.empty())) ||
      (pool_ && pool_->Find(req.name())))
    return PermissionDenied("node " + req.name() + " is in the cluster already");
  SWELL_ASSIGN_OR_RETURN(
      auto issued,
      tls::IssueClientCert(opt_.tls.ca, opt_.ca_key, "node:" + req.name(), req.public_key(), now));
  Write(store_->PutToken(used));
  Event(now, "node_join", 0, req.name(), who.peer);
  LogInfo("head: node %s joined with token %s (%s)", req.name().c_str(), used.id.c_str(),
          who.peer.c_str());
  pb::JoinReply reply;
  reply.set_proof(tls::JoinReplyProof(used.secret, issued.ca_cert, issued.cert));
  reply.set_ca_cert(std::move(issued.ca_cert));
  reply.set_cert(std::move(issued.cert));
  return reply;
}

Result<pb::RevokeReply> Head::Impl::DoRevoke(const std::string& name) {
  const Time now = clock_->Now();
  Write(store_->PutRevoked(name, ToMillis(now)));
  {
    std::lock_guard<std::mutex> lock(revoked_mu_);
    revoked_[name] = ToMillis(now);
  }
  Event(now, "revoke", 0, name.rfind("node:", 0) == 0 ? name.substr(5) : "", name);
  LogInfo("head: certificates of %s issued until now are revoked", name.c_str());
  pb::RevokeReply reply;
  reply.set_at_ms(ToMillis(now));
  // A node whose certificate is revoked leaves the cluster now: its session ends, its work is
  // given up as for a node that failed, and it cannot open another.
  if (name.rfind("node:", 0) == 0) {
    auto it = nodes_.find(name.substr(5));
    if (it != nodes_.end() && it->second.up) {
      reply.set_closed(it->second.session != nullptr);
      NodeFailed(it->second, now, "its certificate was revoked");
    }
  }
  return reply;
}

tls::ClusterTls Head::Impl::ClusterFiles() const {
  tls::ClusterTls t;
  t.dir = std::filesystem::path(opt_.tls.ca).parent_path().string();
  t.ca_cert = opt_.tls.ca;
  t.ca_key = opt_.ca_key;
  t.head_cert = opt_.tls.cert;
  t.head_key = opt_.tls.key;
  return t;
}

Status Head::Impl::LoadCaTimes() {
  if (opt_.ca_key.empty()) return Status::Ok();
  SWELL_ASSIGN_OR_RETURN(ca_times_, tls::ReadCaTimes(ClusterFiles()));
  oldest_ca_ms_ = ToMillis(ca_times_->oldest);
  return Status::Ok();
}

Result<pb::RenewReply> Head::Impl::DoRenew(const std::string& node, const pb::RenewRequest& req) {
  if (opt_.ca_key.empty()) return InvalidArgument("this cluster issues no certificates");
  auto it = nodes_.find(node);
  if (it == nodes_.end() || !it->second.up || !it->second.session)
    return PermissionDenied("node " + node + " renews its certificate while it is in the cluster");
  const Time now = clock_->Now();
  SWELL_ASSIGN_OR_RETURN(auto issued, tls::IssueClientCert(opt_.tls.ca, opt_.ca_key, "node:" + node,
                                                           req.public_key(), now));
  SWELL_ASSIGN_OR_RETURN(auto info, tls::Inspect(issued.cert));
  it->second.cert_issued_ms = ToMillis(now);  // to the millisecond (see DoRotate)
  Event(now, "cert_renewed", 0, node, info.serial);
  LogInfo("head: node %s renewed its certificate", node.c_str());
  pb::RenewReply reply;
  reply.set_ca_cert(std::move(issued.ca_cert));
  reply.set_cert(std::move(issued.cert));
  return reply;
}

Result<pb::RotateReply> Head::Impl::DoRotate(const pb::RotateRequest& req) {
  if (opt_.ca_key.empty())
    return InvalidArgument("this cluster has no certificates to rotate: it has no TCP link");
  const Time now = clock_->Now();
  const tls::ClusterTls files = ClusterFiles();
  pb::RotateReply reply;
  switch (req.step()) {
    case pb::RotateRequest::NEW_CA:
      SWELL_RETURN_IF_ERROR(tls::BeginCaRollover(files, now));
      break;
    case pb::RotateRequest::FINISH: {
      // Nodes that still hold a certificate of the old CA would be shut out.
      for (auto& name : StillOnOldCa(nodes_, ca_times_->signing))
        reply.add_pending(std::move(name));
      if (reply.pending_size() > 0 && !req.force()) return reply;
      SWELL_RETURN_IF_ERROR(tls::FinishCaRollover(files, now));
      break;
    }
    default:
      SWELL_RETURN_IF_ERROR(tls::RenewHeadCert(files, now));
  }
  SWELL_RETURN_IF_ERROR(LoadCaTimes());
  // The files say when to the second; the head knows to the millisecond, which tells a
  // certificate renewed within that second from one issued before it.
  if (req.step() == pb::RotateRequest::NEW_CA)
    ca_times_->signing = now;
  else
    ca_times_->head = now;
  reply.set_cas(static_cast<int32_t>(ca_times_->cas));
  Event(now, "rotate", 0, "", pb::RotateRequest::Step_Name(req.step()));
  LogInfo("head: certificates rotated (%s); %zu CA(s) trusted",
          pb::RotateRequest::Step_Name(req.step()).c_str(), ca_times_->cas);
  // Every node over TLS renews once the server has read the new files (AskRenewals).
  for (auto& [name, n] : nodes_) {
    n.renew_asked = Time{};
    if (n.up && n.session && n.cert_issued_ms != 0) reply.set_nodes(reply.nodes() + 1);
  }
  next_renewals_ = now + kTrustReload;
  return reply;
}

int Head::Impl::AskRenewals(Time now) {
  if (!ca_times_) return 0;
  // The head's own a month before it ends (its file is watched: no restart).
  if (ca_times_->head_ends - now < kRenewAhead) {
    if (auto s = tls::RenewHeadCert(ClusterFiles(), now); !s.ok())
      LogWarning("head: cannot renew the head's certificate: %s", s.ToString().c_str());
    else if (auto r = LoadCaTimes(); !r.ok())
      LogWarning("head: %s", r.ToString().c_str());
  }
  int asked = 0;
  for (auto& [name, n] : nodes_) {
    if (!n.up || !n.session || n.cert_issued_ms == 0) continue;
    if (!NeedsRenewal(n.cert_issued_ms, *ca_times_, now) || now - n.renew_asked < kRenewRetry)
      continue;
    Out(n.session).set_renew_cert(true);
    n.renew_asked = now;
    ++asked;
  }
  return asked;
}

}  // namespace swell::head
