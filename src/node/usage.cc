#include "node/usage.h"

#include <charconv>

#include "common/files.h"

namespace swell::node {
namespace {

int64_t Micros(const struct timeval& tv) {
  return static_cast<int64_t>(tv.tv_sec) * 1'000'000 + static_cast<int64_t>(tv.tv_usec);
}

std::optional<int64_t> Number(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || v < 0)
    return std::nullopt;
  return v;
}

}  // namespace

Usage FromRusage(const struct rusage& ru) {
  Usage u;
  u.max_rss_kb = static_cast<int64_t>(ru.ru_maxrss);
  u.user_cpu_us = Micros(ru.ru_utime);
  u.sys_cpu_us = Micros(ru.ru_stime);
  return u;
}

bool ParseCpuStat(std::string_view text, Usage* u) {
  bool found = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    std::string_view key = line.substr(0, sp);
    auto value = Number(line.substr(sp + 1));
    if (!value) continue;
    if (key == "user_usec") {
      u->user_cpu_us = *value;
      found = true;
    } else if (key == "system_usec") {
      u->sys_cpu_us = *value;
      found = true;
    }
  }
  return found;
}

std::optional<int64_t> ParseMemoryPeakKb(std::string_view text) {
  auto bytes = Number(text);
  if (!bytes) return std::nullopt;
  return (*bytes + 1023) / 1024;
}

std::optional<Usage> CgroupUsage(const std::string& dir, const Usage& fallback) {
  auto stat = ReadFile(dir + "/cpu.stat");
  if (!stat.ok()) return std::nullopt;
  Usage u = fallback;
  if (!ParseCpuStat(*stat, &u)) return std::nullopt;
  if (auto peak = ReadFile(dir + "/memory.peak"); peak.ok())
    if (auto kb = ParseMemoryPeakKb(*peak)) u.max_rss_kb = *kb;
  return u;
}

}  // namespace swell::node
