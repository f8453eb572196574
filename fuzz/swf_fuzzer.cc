// A workload trace in the Standard Workload Format (`swell sim --workload swf:PATH`), read
// plain and with wide jobs split into per-node pieces.

#include <cstdint>
#include <string_view>

#include "sim/workload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)swell::sim::ParseSwf(text, "fuzz.swf", {});
  (void)swell::sim::ParseSwf(text, "fuzz.swf", {.cpus_per_node = 4, .skip_failed = true});
  return 0;
}
