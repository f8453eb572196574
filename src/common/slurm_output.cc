#include "common/slurm_output.h"

#include <fmt/format.h>

#include <algorithm>

namespace swell {

OutputFormat ParseOutputFormat(std::string_view text) {
  constexpr int kMaxWidth = 1'000'000;
  OutputFormat f;
  size_t pct = text.find('%');
  f.prefix = std::string(text.substr(0, pct));
  while (pct != std::string_view::npos) {
    size_t next = text.find('%', pct + 1);
    std::string_view token = text.substr(
        pct + 1, next == std::string_view::npos ? std::string_view::npos : next - pct - 1);
    pct = next;
    if (token.empty()) continue;  // "%%" or a trailing '%'
    OutputField field;
    field.token = std::string(token);
    size_t i = 0;
    if (token[i] == '.') {
      field.right = true;
      ++i;
    } else if (token[i] == '-') {
      ++i;  // printf's explicit left-justify (Slurm itself has no '-': left is its default)
    }
    while (i < token.size() && token[i] >= '0' && token[i] <= '9') {
      field.width = std::min(kMaxWidth, field.width * 10 + (token[i] - '0'));
      ++i;
    }
    if (i < token.size()) field.type = token[i++];
    field.suffix = std::string(token.substr(i));
    f.fields.push_back(std::move(field));
  }
  return f;
}

std::string PadField(std::string_view value, int width, bool right, bool cut) {
  if (width <= 0) return std::string(value);
  size_t w = static_cast<size_t>(width);
  if (value.size() >= w) return std::string(cut ? value.substr(0, w) : value);
  std::string pad(w - value.size(), ' ');
  return right ? pad + std::string(value) : std::string(value) + pad;
}

std::string RenderLine(const OutputFormat& format,
                       const std::function<FieldText(const OutputField&)>& value) {
  std::string out = format.prefix;
  for (const auto& field : format.fields) {
    FieldText t = value(field);
    out += PadField(t.text, field.width, field.right, t.cut);
    out += field.suffix;
  }
  return out;
}

std::string FormatSeconds(int64_t s) {
  if (s < 0) return "INVALID";
  int64_t days = s / 86400, hours = s / 3600 % 24, minutes = s / 60 % 60, seconds = s % 60;
  if (days > 0) return fmt::format("{}-{:02}:{:02}:{:02}", days, hours, minutes, seconds);
  if (hours > 0) return fmt::format("{}:{:02}:{:02}", hours, minutes, seconds);
  return fmt::format("{}:{:02}", minutes, seconds);
}

}  // namespace swell
