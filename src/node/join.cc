#include "node/join.h"

#include "common/clock.h"
#include "common/log.h"
#include "common/secret.h"
#include "rpc/client.h"
#include "tls/certs.h"
#include "tls/cluster_tls.h"
#include "tls/join.h"

namespace swell::node {

Status JoinWithToken(const std::string& head, const std::string& token_text,
                     const std::string& name, const std::string& dir) {
  SWELL_ASSIGN_OR_RETURN(auto token, tls::ParseJoinToken(token_text));
  SWELL_ASSIGN_OR_RETURN(auto key, tls::NewKey());
  SWELL_ASSIGN_OR_RETURN(auto public_key, tls::PublicKeyOf(key));
  pb::JoinRequest req;
  req.set_token_id(token.id);
  req.set_name(name);
  req.set_public_key(public_key);
  req.set_proof(tls::JoinRequestProof(token.secret, token.id, name, public_key));
  SWELL_ASSIGN_OR_RETURN(auto reply, rpc::Join(head, req, std::chrono::seconds(60)));
  if (!SecretEquals(reply.proof(),
                    tls::JoinReplyProof(token.secret, reply.ca_cert(), reply.cert())))
    return PermissionDenied("the head at " + head +
                            " did not prove it made this token: its certificates are not taken");
  SWELL_RETURN_IF_ERROR(tls::KeepIssuedFiles(tls::NodeFilesIn(dir), "node:" + name, key,
                                             reply.cert(), reply.ca_cert(), SystemClock().Now())
                            .status());
  LogInfo("node %s: joined the head at %s", name.c_str(), head.c_str());
  return Status::Ok();
}

Status RenewCertificate(const std::string& head, const rpc::TlsFiles& files,
                        const std::string& name, Time now) {
  SWELL_ASSIGN_OR_RETURN(auto key, tls::NewKey());
  pb::RenewRequest req;
  SWELL_ASSIGN_OR_RETURN(*req.mutable_public_key(), tls::PublicKeyOf(key));
  auto client = rpc::HeadClient::Create({head, "", files});
  client->set_timeout(std::chrono::seconds(10));
  SWELL_ASSIGN_OR_RETURN(auto reply, client->Renew(req));
  SWELL_RETURN_IF_ERROR(tls::KeepIssuedFiles({files.ca, files.cert, files.key}, "node:" + name, key,
                                             reply.cert(), reply.ca_cert(), now)
                            .status());
  LogInfo("node %s: renewed its certificate", name.c_str());
  return Status::Ok();
}

}  // namespace swell::node
