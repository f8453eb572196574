#pragma once

// The cluster secret: random bytes created at `swell up`, stored 0600, presented by nodes and
// remote clients.

#include <cstddef>
#include <string>

#include "common/status.h"

namespace swell {

// 32 random bytes from the kernel as 64 hex digits.
Result<std::string> GenerateSecret();

// `n` bytes as 2n lower-case hex digits.
std::string HexOf(const unsigned char* bytes, size_t n);

// Compares in time independent of where the strings differ.
bool SecretEquals(const std::string& a, const std::string& b);

// Reads the secret at `path`, creating it (mode 0600) when it does not exist.
Result<std::string> LoadOrCreateSecret(const std::string& path);
// Reads the secret at `path`.
Result<std::string> LoadSecret(const std::string& path);

}  // namespace swell
