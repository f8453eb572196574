#include "common/hostlist.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <cstdint>
#include <tuple>
#include <utility>

#include "common/text.h"

namespace swell {
namespace {

struct HostName {
  std::string prefix;
  bool numbered = false;
  int64_t value = 0;
  std::string digits;  // the numeric suffix as written (keeps zero padding)
};

HostName SplitHostName(const std::string& name) {
  size_t start = name.size();
  while (start > 0 && IsDigit(name[start - 1])) --start;
  size_t ndigits = name.size() - start;
  if (ndigits == 0 || ndigits > 18) return HostName{name, false, 0, ""};
  std::string digits = name.substr(start);
  return HostName{name.substr(0, start), true, *ParseDigits(digits), digits};
}

bool IsZeroPadded(const std::string& digits) { return digits.size() > 1 && digits[0] == '0'; }

}  // namespace

std::string CompressHostList(std::vector<std::string> names) {
  std::vector<HostName> hosts;
  hosts.reserve(names.size());
  for (const std::string& name : names) {
    if (!name.empty()) hosts.push_back(SplitHostName(name));
  }
  auto key = [](const HostName& h) { return std::tie(h.prefix, h.numbered, h.value, h.digits); };
  std::sort(hosts.begin(), hosts.end(),
            [&](const HostName& a, const HostName& b) { return key(a) < key(b); });
  hosts.erase(std::unique(hosts.begin(), hosts.end(),
                          [&](const HostName& a, const HostName& b) { return key(a) == key(b); }),
              hosts.end());

  std::string out;
  for (size_t i = 0; i < hosts.size();) {
    if (!out.empty()) out += ',';
    if (!hosts[i].numbered) {
      out += hosts[i++].prefix;
      continue;
    }
    size_t group_end = i;
    while (group_end < hosts.size() && hosts[group_end].numbered &&
           hosts[group_end].prefix == hosts[i].prefix) {
      ++group_end;
    }
    if (group_end - i == 1) {
      out += hosts[i].prefix + hosts[i].digits;
      i = group_end;
      continue;
    }
    std::string ranges;
    while (i < group_end) {
      // A range keeps the padding of its first element: later members must print the same way.
      size_t width = IsZeroPadded(hosts[i].digits) ? hosts[i].digits.size() : 0;
      size_t j = i;
      while (j + 1 < group_end && hosts[j + 1].value == hosts[j].value + 1 &&
             hosts[j + 1].digits == PadNumber(hosts[j + 1].value, width)) {
        ++j;
      }
      if (!ranges.empty()) ranges += ',';
      ranges += hosts[i].digits;
      if (j > i) ranges += "-" + hosts[j].digits;
      i = j + 1;
    }
    out += hosts[group_end - 1].prefix + "[" + ranges + "]";
  }
  return out;
}

Result<std::vector<std::string>> ExpandHostList(std::string_view text) {
  constexpr size_t kMaxHosts = 1'000'000;
  auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format("invalid host list '{}': {}", text, why));
  };
  // Top-level items: commas inside brackets belong to the ranges.
  std::vector<std::string_view> items;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    char c = i < text.size() ? text[i] : ',';
    if (c == '[' && ++depth > 1) return bad("nested brackets");
    if (c == ']' && --depth < 0) return bad("unbalanced ']'");
    if (c == ',' && depth == 0) {
      if (i > start) items.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  if (depth != 0) return bad("unbalanced '['");
  std::vector<std::string> out;
  for (std::string_view item : items) {
    std::vector<std::string> names = {""};
    size_t i = 0;
    while (i < item.size()) {
      size_t open = item.find('[', i);
      std::string_view literal =
          item.substr(i, open == std::string_view::npos ? item.npos : open - i);
      for (auto& n : names) n += literal;
      if (open == std::string_view::npos) break;
      size_t close = item.find(']', open);
      std::string_view inner = item.substr(open + 1, close - open - 1);
      std::vector<std::string> numbers;
      for (std::string_view range : Split(inner, ',')) {
        size_t dash = range.find('-');
        std::string_view lo_text = range.substr(0, dash);
        std::string_view hi_text =
            dash == std::string_view::npos ? lo_text : range.substr(dash + 1);
        auto lo = ParseDigits(lo_text), hi = ParseDigits(hi_text);
        if (lo_text.empty() || hi_text.empty() || !lo || !hi || *hi < *lo)
          return bad(fmt::format("bad range '{}'", range));
        if (static_cast<uint64_t>(*hi - *lo) >= kMaxHosts) return bad("too many hosts");
        size_t width = IsZeroPadded(std::string(lo_text)) ? lo_text.size() : 0;
        for (int64_t v = *lo; v <= *hi; ++v) numbers.push_back(PadNumber(v, width));
      }
      if (names.size() * numbers.size() > kMaxHosts) return bad("too many hosts");
      std::vector<std::string> next;
      next.reserve(names.size() * numbers.size());
      for (const auto& n : names)
        for (const auto& num : numbers) next.push_back(n + num);
      names = std::move(next);
      i = close + 1;
    }
    if (out.size() + names.size() > kMaxHosts) return bad("too many hosts");
    for (auto& n : names) out.push_back(std::move(n));
  }
  return out;
}

std::string CompressCounts(const std::vector<int>& counts) {
  std::string out;
  for (size_t i = 0; i < counts.size();) {
    size_t j = i;
    while (j < counts.size() && counts[j] == counts[i]) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(counts[i]);
    if (j - i > 1) out += "(x" + std::to_string(j - i) + ")";
    i = j;
  }
  return out;
}

Result<std::vector<int>> ExpandCounts(std::string_view text) {
  auto bad = [&] { return InvalidArgument("not a list of task counts: '" + std::string(text) + "'"); };
  auto number = [](std::string_view digits) -> std::optional<int> {
    int v = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || v < 0)
      return std::nullopt;
    return v;
  };
  std::vector<int> out;
  if (text.empty()) return out;
  for (size_t start = 0; start <= text.size();) {
    size_t comma = std::min(text.find(',', start), text.size());
    std::string_view item = text.substr(start, comma - start);
    int repeat = 1;
    if (size_t paren = item.find("(x"); paren != std::string_view::npos) {
      if (item.back() != ')') return bad();
      auto r = number(item.substr(paren + 2, item.size() - paren - 3));
      if (!r || *r < 1) return bad();
      repeat = *r;
      item = item.substr(0, paren);
    }
    auto count = number(item);
    if (!count || out.size() + static_cast<size_t>(repeat) > 1'000'000) return bad();
    out.insert(out.end(), static_cast<size_t>(repeat), *count);
    start = comma + 1;
  }
  return out;
}

std::vector<std::string> HostListOrder(const std::vector<std::string>& names) {
  auto order = ExpandHostList(CompressHostList(names));
  return order.ok() ? std::move(order).value() : names;
}

}  // namespace swell
