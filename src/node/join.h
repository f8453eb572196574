#pragma once

// A node's certificate (docs/security.md). A node on another machine joins a TCP head with a
// join token: it makes its own key, proves it holds the token's secret, checks the head's proof
// over what it got back, and keeps its `node:<name>` certificate and the cluster's CA in `dir`
// (tls::NodeFilesIn). Any node over TLS renews its certificate when the head asks.

#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "rpc/api.h"

namespace swell::node {

// `head` is "host:port"; `token_text` is what `swell token` printed. PermissionDenied when the
// head cannot prove it made the token (its certificates are then not kept).
Status JoinWithToken(const std::string& head, const std::string& token_text,
                     const std::string& name, const std::string& dir);

// Renews the certificate in `files` (the head asked: HeadMessage.renew_cert): a new key, a
// certificate for it from the head at `head` ("host:port", reached with the certificate held
// now), kept with the CAs the head trusts in place of the old ones once they check out. The
// session open now goes on with the old; the next connection uses the new.
Status RenewCertificate(const std::string& head, const rpc::TlsFiles& files,
                        const std::string& name, Time now);

}  // namespace swell::node
