#pragma once

// Daemon logging: one line per event on stderr (the daemons' log files), with a UTC timestamp
// and the level. printf-style; thread-safe (one write per line).

namespace swell {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

void SetLogLevel(LogLevel level);
void Log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace swell

#define LogDebug(...) ::swell::Log(::swell::LogLevel::kDebug, __VA_ARGS__)
#define LogInfo(...) ::swell::Log(::swell::LogLevel::kInfo, __VA_ARGS__)
#define LogWarning(...) ::swell::Log(::swell::LogLevel::kWarning, __VA_ARGS__)
#define LogError(...) ::swell::Log(::swell::LogLevel::kError, __VA_ARGS__)
