#include "tls/join.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>

#include "common/secret.h"

namespace swell::tls {
namespace {

bool IsHex(const std::string& s, size_t size) {
  if (s.size() != size) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)) ||
        std::isupper(static_cast<unsigned char>(c)))
      return false;
  return true;
}

// HMAC-SHA256 keyed by `secret` over the fields, each preceded by its length (no two field
// lists give the same bytes), as hex.
std::string Mac(const std::string& secret, std::initializer_list<std::string> fields) {
  std::string msg;
  for (const auto& f : fields) msg += std::to_string(f.size()) + ":" + f;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &n);
  return HexOf(out, n);
}

}  // namespace

Result<JoinToken> NewJoinToken() {
  SWELL_ASSIGN_OR_RETURN(std::string random, GenerateSecret());  // 64 hex digits
  return JoinToken{random.substr(0, 16), random.substr(16, 32)};
}

Result<JoinToken> ParseJoinToken(const std::string& text) {
  auto dot = text.find('.');
  JoinToken t;
  if (dot != std::string::npos) t = {text.substr(0, dot), text.substr(dot + 1)};
  if (!IsHex(t.id, 16) || !IsHex(t.secret, 32))
    return InvalidArgument("not a join token (made by `swell token`: 16 hex digits, '.', 32)");
  return t;
}

std::string JoinRequestProof(const std::string& secret, const std::string& id,
                             const std::string& name, const std::string& public_key) {
  return Mac(secret, {"swell join request v1", id, name, public_key});
}

std::string JoinReplyProof(const std::string& secret, const std::string& ca_cert,
                           const std::string& cert) {
  return Mac(secret, {"swell join reply v1", ca_cert, cert});
}

}  // namespace swell::tls
