#pragma once

// Join tokens and the joins they admit (docs/security.md; the proofs are tls/join.h's). Pure:
// the head's loop loads the token, calls these, writes the row they return and only then
// answers, so a token's last use cannot be spent twice, across a head restart too.

#include <sys/types.h>

#include <optional>

#include "common/status.h"
#include "head/state/store.h"
#include "rpc/api.h"
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

}  // namespace swell::head
