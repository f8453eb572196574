#pragma once

// Join tokens and the joins they admit (docs/security.md; the proofs are tls/join.h's). Pure:
// the head's loop loads the token, calls these, writes the row they return and only then
// answers, so a token's last use cannot be spent twice, across a head restart too.

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "head/job_model.h"
#include "head/state/store.h"
#include "rpc/api.h"
#include "tls/cluster_tls.h"
#include "tls/join.h"

namespace swell::head {

// Who may make join tokens: root, or the user the head runs as (`head_uid`), on the head's
// host (the unix socket); a token admits a machine into the cluster.
Status MayMakeTokens(const rpc::Caller& who, uid_t head_uid);

// The row of a new token `t` asked for at `now_ms`: a day and one use unless asked otherwise.
// InvalidArgument for a negative or too long lifetime (over a year), a use count out of
// 1..10,000 or a bad node name.
Result<state::TokenRow> NewTokenRow(const pb::TokenRequest& request, const tls::JoinToken& t,
                                    int64_t now_ms);

// Whether `token` (none: the id is unknown) admits `request` at `now_ms`: the proof matches
// its secret, it has not expired, it has a use left and it admits the name asked for. Returns
// the row with one use fewer. A wrong id and a wrong proof get the same refusal.
Result<state::TokenRow> AdmitJoin(const std::optional<state::TokenRow>& token,
                                  const pb::JoinRequest& request, int64_t now_ms);

// Renewal (docs/security.md, "Rotating certificates"). A node connected over TLS is asked to
// renew its certificate when it was issued before the head's current one (`swell rotate`) or
// before the CA that signs now (a rollover began), or when it ends within kRenewAhead; the
// head renews its own kRenewAhead before it ends. Not within kTrustReload of a rotation: the
// head's TLS server reads its files again every 5 s (rpc/server.cc), and until then it would
// not trust a certificate of a new CA. A node asked is asked again after kRenewRetry while it
// still needs to.
inline constexpr Duration kRenewAhead = std::chrono::hours(24 * 30);
inline constexpr Duration kRenewRetry = std::chrono::minutes(1);
inline constexpr Duration kTrustReload = std::chrono::seconds(6);
bool NeedsRenewal(int64_t cert_issued_ms, const tls::CaTimes& times, Time now);

// The nodes up over TLS whose certificate was issued before `signing` (the CA that signs now
// was made): of the old CA, so a rollover that ended now would shut them out.
std::vector<std::string> StillOnOldCa(const std::map<std::string, NodeEntry>& nodes, Time signing);

}  // namespace swell::head
