// A cluster file (`swell up --config`, `swell head --config`, `swell sim --config`).

#include <cstdint>
#include <string_view>

#include "head/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)swell::head::config::Parse(std::string_view(reinterpret_cast<const char*>(data), size),
                                   "fuzz.toml");
  return 0;
}
