#pragma once

// Small text helpers for parsing what users type: ASCII character classes, case folding,
// case-insensitive comparison, runs of decimal digits, splitting at a separator and
// zero-padded numbers.
//
// All functions are pure and thread-safe. Character classes and case folding are ASCII's (the
// "C" locale, which swell never changes): a byte outside ASCII is neither a digit nor a letter,
// and case folding leaves it as it is.

#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace swell {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAlpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
// A space or a tab.
inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

inline char ToLower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}
inline char ToUpper(char c) {
  return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
}
// `s` with every letter folded: "Pending" -> "pending" / "PENDING".
std::string ToLower(std::string_view s);
std::string ToUpper(std::string_view s);

// Whether `a` and `b` are equal but for the case of their letters.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Whether `s` is a non-empty run of decimal digits.
bool AllDigits(std::string_view s);

// The value of a non-empty run of decimal digits ("007" -> 7); nullopt for an empty string, any
// other character (signs and blanks included) and values that do not fit in int64_t.
std::optional<int64_t> ParseDigits(std::string_view s);

// The pieces of `s` between the separators, empty ones included: "a,,b" -> {"a", "", "b"},
// "" -> {""}. The pieces point into `s`.
std::vector<std::string_view> Split(std::string_view s, char sep);

// The non-empty pieces of `s` between the separators, copied: "a,,b," -> {"a", "b"},
// "" -> {}. What Slurm's commands make of a list option ("-p a,b", "JobId=1,2").
std::vector<std::string> SplitNonEmpty(std::string_view s, char sep);

// `value` written with at least `width` digits, zero-padded ("%0*d"): PadNumber(7, 3) is "007";
// width 0 gives no padding, and a wider value is not cut.
std::string PadNumber(int64_t value, size_t width);

// "host:port" ("[::1]:80" for an IPv6 host, given without its brackets), port in 0..65535;
// nullopt when malformed or the host is empty.
struct HostPort {
  std::string host;
  int port = 0;
};
std::optional<HostPort> ParseHostPort(std::string_view s);

// Whether `host` is a loopback address or name (127.0.0.0/8, ::1, localhost).
bool IsLoopbackHost(std::string_view host);

// A colon-separated search path (PATH) with `dir` first and nowhere else: the commands there
// win over others of the same name (swell's srun over an installed Slurm's). An empty `dir`
// leaves the path as it is.
std::string PathWithDirFirst(std::string_view path, std::string_view dir);

}  // namespace swell
