// A batch script's #SBATCH directives, as sbatch and `swell submit` read them: extracted, then
// parsed and merged as one argument list.

#include <cstdint>
#include <string_view>

#include "cli/submit_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view script(reinterpret_cast<const char*>(data), size);
  auto tokens = swell::cli::ExtractDirectives(script, "fuzz.sh");
  if (!tokens.ok()) return 0;
  (void)swell::cli::MergeDirectives(*tokens, {}, "fuzz.sh",
                                    swell::Time(std::chrono::hours(24 * 20000)));
  return 0;
}
