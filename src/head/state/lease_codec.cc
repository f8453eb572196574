#include "head/state/lease_codec.h"

#include <cstdio>

namespace swell::head::state {

std::string EncodeShares(const UnitRows& units) {
  std::string out;
  for (const auto& unit : units) {
    for (const auto& s : unit)
      out += s.node + ":" + std::to_string(s.ntasks) + ":" + std::to_string(s.cpus) + ":" +
             std::to_string(s.mem_mb) + ":" + std::to_string(s.gpus) + ",";
    out += ";";
  }
  return out;
}

UnitRows DecodeShares(const std::string& text) {
  UnitRows units;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = text.find(';', i);
    if (end == std::string::npos) break;
    std::vector<ShareRow> unit;
    std::string u = text.substr(i, end - i);
    size_t j = 0;
    while (j < u.size()) {
      size_t e = u.find(',', j);
      if (e == std::string::npos) e = u.size();
      std::string part = u.substr(j, e - j);
      size_t colon = part.find(':');
      long long ntasks = 0, cpus = 0, mem = 0, gpus = 0;
      if (colon != std::string::npos &&
          sscanf(part.c_str() + colon + 1, "%lld:%lld:%lld:%lld", &ntasks, &cpus, &mem, &gpus) ==
              4)
        unit.push_back({part.substr(0, colon), static_cast<int>(ntasks), static_cast<int>(cpus),
                        mem, static_cast<int>(gpus)});
      j = e + 1;
    }
    units.push_back(std::move(unit));
    i = end + 1;
  }
  return units;
}

}  // namespace swell::head::state
