// The option values of Slurm's commands: the first byte picks the parser, the rest is its text.
// Beyond not crashing, the round trips the headers promise must hold.

#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "cli/submit_options.h"
#include "common/hostlist.h"
#include "common/local_time.h"
#include "common/slurm_format.h"

namespace {

using namespace swell;

// A broken promise: abort, which libFuzzer reports as a crash with the input.
void Check(bool ok) {
  if (!ok) std::abort();
}

bool PlainName(const std::string& n) {
  if (n.empty()) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

void TimeLimit(std::string_view text) {
  auto d = ParseTimeLimit(text);
  if (!d.ok() || *d == kInfinite || d->count() % 1000 != 0) return;
  auto again = ParseTimeLimit(FormatDuration(*d));
  Check(again.ok() && *again == *d);
}

// Round trips of lists longer than this are skipped: a few bytes can name the parsers'
// bounds (4M indices, 1M host names), whose expansion is checked; formatting them again
// under the sanitizers would take seconds an input and leave little time for anything else.
constexpr size_t kRoundTripMax = 10'000;

void Array(std::string_view text) {
  auto a = ParseArraySpec(text);
  if (!a.ok() || a->indices.size() > kRoundTripMax) return;
  Check(!a->indices.empty());
  for (size_t i = 1; i < a->indices.size(); ++i) Check(a->indices[i - 1] < a->indices[i]);
  auto again = ParseArraySpec(FormatArrayIndices(a->indices));
  Check(again.ok() && again->indices == a->indices);
}

void HostList(std::string_view text) {
  auto names = ExpandHostList(text);
  if (!names.ok()) return;
  Check(names->size() <= 1'000'000);
  if (names->size() > kRoundTripMax) return;
  std::set<std::string> plain;
  for (const auto& n : *names)
    if (PlainName(n)) plain.insert(n);
  std::vector<std::string> list(plain.begin(), plain.end());
  auto back = ExpandHostList(CompressHostList(list));
  Check(back.ok() && std::set<std::string>(back->begin(), back->end()) == plain);
}

void Counts(std::string_view text) {
  auto counts = ExpandCounts(text);
  if (!counts.ok() || counts->size() > kRoundTripMax) return;
  auto back = ExpandCounts(CompressCounts(*counts));
  Check(back.ok() && *back == *counts);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 8) {
    case 0: TimeLimit(text); break;
    case 1: Array(text); break;
    case 2: (void)ParseMemoryMb(text); break;
    case 3: HostList(text); break;
    case 4: Counts(text); break;
    case 5: (void)cli::ParseDependency(text); break;
    case 6: (void)ParseBeginTime(text, Time(std::chrono::hours(24 * 20000))); break;
    case 7: (void)cli::ValidateExportSpec(text); break;
  }
  return 0;
}
