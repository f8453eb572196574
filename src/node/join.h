#pragma once

// A node on another machine joining a TCP head with a join token (docs/security.md): it makes
// its own key, proves it holds the token's secret, checks the head's proof over what it got
// back, and keeps its `node:<name>` certificate and the cluster's CA in `dir` (tls::NodeFilesIn).

#include <string>

#include "common/status.h"

namespace swell::node {

// `head` is "host:port"; `token_text` is what `swell token` printed. PermissionDenied when the
// head cannot prove it made the token (its certificates are then not kept).
Status JoinWithToken(const std::string& head, const std::string& token_text,
                     const std::string& name, const std::string& dir);

}  // namespace swell::node
