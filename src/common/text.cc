#include "common/text.h"

#include <fmt/format.h>

#include <algorithm>

namespace swell {

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ToLower(c);
  return out;
}

std::string ToUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ToUpper(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}

std::optional<int64_t> ParseDigits(std::string_view s) {
  if (!AllDigits(s)) return std::nullopt;
  int64_t value = 0;
  for (char c : s) {
    if (__builtin_mul_overflow(value, 10, &value) ||
        __builtin_add_overflow(value, c - '0', &value)) {
      return std::nullopt;
    }
  }
  return value;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

std::vector<std::string> SplitNonEmpty(std::string_view s, char sep) {
  std::vector<std::string> parts;
  for (std::string_view piece : Split(s, sep))
    if (!piece.empty()) parts.emplace_back(piece);
  return parts;
}

std::string PadNumber(int64_t value, size_t width) { return fmt::format("{:0{}}", value, width); }

std::string PathWithDirFirst(std::string_view path, std::string_view dir) {
  if (dir.empty()) return std::string(path);
  std::string out(dir);
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view entry = path.substr(start, end - start);
    if (entry != dir && !(entry.empty() && end == path.size() && start == 0))
      out.append(":").append(entry);
    start = end + 1;
  }
  return out;
}

std::optional<HostPort> ParseHostPort(std::string_view s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  auto port = ParseDigits(s.substr(colon + 1));
  if (host.empty() || !port || *port > 65535) return std::nullopt;
  return HostPort{std::string(host), static_cast<int>(*port)};
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  // 127.x.y.z, written as four numbers.
  auto parts = Split(host, '.');
  if (parts.size() != 4) return false;
  for (auto p : parts) {
    auto v = ParseDigits(p);
    if (!v || *v > 255) return false;
  }
  return parts[0] == "127";
}

}  // namespace swell
