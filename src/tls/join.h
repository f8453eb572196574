#pragma once

// Join tokens (docs/security.md): how a node on another machine gets its certificate.
//
// `swell token` makes a token "<id>.<secret>": the id names it to the head, the secret is shared
// by the head and whoever holds the token, and never travels. A joining node makes its own key
// and sends the head its name, its public key and a proof (HMAC-SHA256 keyed by the secret) over
// all three; the head, finding the token valid and the proof right, signs a certificate for
// "node:<name>" and answers with it, the CA's certificate and its own proof over both. So the
// node needs to trust nothing on the wire before it has the CA: a party without the secret can
// neither use a token it saw go by nor hand the node a CA of its own.
//
// Pure functions over strings; OpenSSL's libcrypto computes the MACs.

#include <string>

#include "common/status.h"

namespace swell::tls {

struct JoinToken {
  std::string id;      // 16 hex digits
  std::string secret;  // 32 hex digits (128 bits)
  std::string text() const { return id + "." + secret; }
};

// A new token from the kernel's random bytes.
Result<JoinToken> NewJoinToken();
// "<id>.<secret>" as given to `--token`; InvalidArgument for anything else.
Result<JoinToken> ParseJoinToken(const std::string& text);

// The node's proof: it holds the token's secret and asks for `name` with `public_key`.
std::string JoinRequestProof(const std::string& secret, const std::string& id,
                             const std::string& name, const std::string& public_key);
// The head's proof: it holds the secret and issued `cert` under `ca_cert`.
std::string JoinReplyProof(const std::string& secret, const std::string& ca_cert,
                           const std::string& cert);

}  // namespace swell::tls
