#include "head/node_join.h"

#include <algorithm>

#include "common/secret.h"
#include "provider/provider.h"

namespace swell::head {

namespace {
constexpr int64_t kDayMs = 24LL * 3600 * 1000;
}  // namespace

Status MayMakeTokens(const rpc::Caller& who, uid_t head_uid) {
  if (who.local && (who.uid == 0 || who.uid == head_uid)) return Status::Ok();
  return PermissionDenied(
      "only root or the cluster's owner, on the head's host, may make join tokens");
}

Result<state::TokenRow> NewTokenRow(const pb::TokenRequest& request, const tls::JoinToken& t,
                                    int64_t now_ms) {
  if (request.ttl_s() < 0 || request.ttl_s() > 366LL * 24 * 3600)
    return InvalidArgument("a join token lives from 1 second to a year");
  if (request.uses() < 0 || request.uses() > 10000)
    return InvalidArgument("a join token admits 1 to 10000 nodes");
  if (!request.node().empty()) SWELL_RETURN_IF_ERROR(provider::CheckNodeName(request.node()));
  state::TokenRow row;
  row.id = t.id;
  row.secret = t.secret;
  row.node = request.node();
  row.uses_left = request.uses() > 0 ? request.uses() : 1;
  row.created_ms = now_ms;
  row.expires_ms = now_ms + (request.ttl_s() > 0 ? request.ttl_s() * 1000 : kDayMs);
  return row;
}

Result<state::TokenRow> AdmitJoin(const std::optional<state::TokenRow>& token,
                                  const pb::JoinRequest& request, int64_t now_ms) {
  if (!token ||
      !SecretEquals(request.proof(), tls::JoinRequestProof(token->secret, token->id, request.name(),
                                                           request.public_key())))
    return PermissionDenied("the join token is not valid here (see `swell token`)");
  if (now_ms >= token->expires_ms) return PermissionDenied("the join token has expired");
  if (token->uses_left <= 0) return PermissionDenied("the join token has been used");
  if (!token->node.empty() && token->node != request.name())
    return PermissionDenied("the join token admits node " + token->node + " only, not " +
                            request.name());
  SWELL_RETURN_IF_ERROR(provider::CheckNodeName(request.name()));
  state::TokenRow used = *token;
  --used.uses_left;
  return used;
}

bool NeedsRenewal(int64_t cert_issued_ms, const tls::CaTimes& times, Time now) {
  const Time rotated = std::max(times.signing, times.head);
  if (now - rotated < kTrustReload) return false;
  const Time ends = FromMillis(cert_issued_ms) + std::chrono::hours(24 * tls::kLeafDays);
  return cert_issued_ms < ToMillis(rotated) || ends - now < kRenewAhead;
}

std::vector<std::string> StillOnOldCa(const std::map<std::string, NodeEntry>& nodes, Time signing) {
  std::vector<std::string> out;
  for (const auto& [name, n] : nodes)
    if (n.up && n.cert_issued_ms != 0 && n.cert_issued_ms < ToMillis(signing)) out.push_back(name);
  return out;
}

}  // namespace swell::head
