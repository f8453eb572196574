#include "common/secret.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/files.h"

namespace swell {

Result<std::string> GenerateSecret() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Internal(std::string("getrandom: ") + strerror(errno));
    }
    got += static_cast<size_t>(n);
  }
  return HexOf(bytes, sizeof bytes);
}

std::string HexOf(const unsigned char* bytes, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) out += kHex[bytes[i] >> 4], out += kHex[bytes[i] & 15];
  return out;
}

bool SecretEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

Result<std::string> LoadSecret(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  std::string s = *text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.size() < 32) return InvalidArgument("cluster secret in " + path + " is too short");
  return s;
}

Result<std::string> LoadOrCreateSecret(const std::string& path) {
  if (access(path.c_str(), F_OK) == 0) return LoadSecret(path);
  auto secret = GenerateSecret();
  if (!secret.ok()) return secret.status();
  SWELL_RETURN_IF_ERROR(WriteFileAtomic(path, *secret + "\n", 0600));
  return LoadSecret(path);
}

}  // namespace swell
