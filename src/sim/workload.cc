#include "sim/workload.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>

namespace swell::sim {

namespace {

constexpr int kSwfFields = 18;
constexpr double kMaxValue = 1e15;  // beyond this a value is nonsense (and overflows millis)
constexpr int64_t kDefaultStride = 1000;
// Bounds on what one trace may make (the largest machines of the Parallel Workloads Archive
// have some 10^5 cores; its longest traces some 10^6 jobs).
constexpr int64_t kMaxPiecesPerJob = 100'000;
constexpr int64_t kMaxSwfJobs = 10'000'000;

// SWF field numbers (1-based, as in the format's definition).
enum SwfField {
  kJobNumber = 1,
  kSubmit = 2,
  kRunTime = 4,
  kAllocatedProcs = 5,
  kUsedMemory = 7,
  kRequestedProcs = 8,
  kRequestedMemory = 10,
  kStatus = 11,
};

constexpr const char* kFieldNames[kSwfFields + 1] = {
    "",
    "job number",
    "submit time",
    "wait time",
    "run time",
    "allocated processors",
    "average cpu time",
    "used memory",
    "requested processors",
    "requested time",
    "requested memory",
    "status",
    "user",
    "group",
    "executable",
    "queue",
    "partition",
    "preceding job",
    "think time",
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// One job as parsed, before the mapping to SimJobs.
struct SwfJob {
  int64_t number = 0;
  int64_t submit_ms = 0;
  int64_t run_ms = 0;
  int64_t cpus = 0;
  double kb_per_cpu = 0;
};

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

int64_t MemoryMb(double kb_per_cpu, int64_t cpus) {
  if (kb_per_cpu <= 0) return 0;
  return static_cast<int64_t>(std::ceil(kb_per_cpu * static_cast<double>(cpus) / 1024.0));
}

// Parses one data line into `fields` (1-based); returns an error message or "".
std::string ParseFields(std::string_view line, std::array<double, kSwfFields + 1>& fields) {
  int n = 0;
  size_t i = 0;
  while (true) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    if (i == line.size()) break;
    size_t start = i;
    while (i < line.size() && !IsSpace(line[i])) ++i;
    std::string_view token = line.substr(start, i - start);
    if (++n > kSwfFields) continue;  // counted for the message below
    double v = 0;
    const char* first = token.data();
    const char* last = token.data() + token.size();
    if (*first == '+') ++first;  // from_chars rejects a leading '+'
    auto [end, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || end != last || first == last || !std::isfinite(v))
      return "field " + std::to_string(n) + " (" + kFieldNames[n] + ") is not a number: '" +
             std::string(token) + "'";
    if (std::fabs(v) > kMaxValue)
      return "field " + std::to_string(n) + " (" + kFieldNames[n] + ") is out of range: '" +
             std::string(token) + "'";
    fields[static_cast<size_t>(n)] = v;
  }
  if (n != kSwfFields)
    return "expected " + std::to_string(kSwfFields) + " fields, got " + std::to_string(n);
  for (int f : {kJobNumber, kAllocatedProcs, kRequestedProcs, kStatus}) {
    double v = fields[static_cast<size_t>(f)];
    if (v != std::floor(v))
      return "field " + std::to_string(f) + " (" + kFieldNames[f] +
             ") is not an integer: " + std::to_string(v);
  }
  return "";
}

// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast, and the same on every platform, unlike
// the standard library's distributions.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi] (modulo of a 64-bit draw: bias below 2^-30 for any range used here).
  int64_t Uniform(int64_t lo, int64_t hi) {
    uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(Next() % span);
  }

 private:
  uint64_t state_;
};

struct SyntheticKey {
  const char* name;
  int64_t value;
  int64_t min;
  int64_t max;
  bool seen = false;
};

}  // namespace

Result<std::vector<SimJob>> ParseSwf(std::string_view text, const std::string& source,
                                     const SwfOptions& o) {
  std::vector<SwfJob> kept;
  std::array<double, kSwfFields + 1> fields{};
  int64_t line_no = 0;
  int64_t max_pieces = 1, total_pieces = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    line = Trim(line);
    if (line.empty() || line.front() == ';') continue;
    std::string err = ParseFields(line, fields);
    if (!err.empty()) return InvalidArgument(source + ":" + std::to_string(line_no) + ": " + err);

    auto field = [&](int f) { return fields[static_cast<size_t>(f)]; };
    if (field(kSubmit) < 0) continue;    // unknown submit time
    if (field(kRunTime) <= 0) continue;  // never ran
    int64_t status = static_cast<int64_t>(field(kStatus));
    if (o.skip_failed && (status == 0 || status == 5)) continue;
    int64_t cpus = static_cast<int64_t>(field(kRequestedProcs) > 0 ? field(kRequestedProcs)
                                                                   : field(kAllocatedProcs));
    if (cpus <= 0) continue;
    if (cpus > INT_MAX)
      return InvalidArgument(source + ":" + std::to_string(line_no) + ": " + std::to_string(cpus) +
                             " processors is out of range");

    SwfJob j;
    j.number = static_cast<int64_t>(field(kJobNumber));
    j.submit_ms = std::llround(field(kSubmit) * 1000.0);
    j.run_ms = std::llround(field(kRunTime) * 1000.0);
    if (j.run_ms <= 0) continue;  // shorter than half a millisecond: nothing ran
    j.cpus = cpus;
    j.kb_per_cpu = field(kRequestedMemory) > 0 ? field(kRequestedMemory)
                   : field(kUsedMemory) > 0    ? field(kUsedMemory)
                                               : 0;
    int64_t pieces = o.cpus_per_node > 0 ? CeilDiv(cpus, o.cpus_per_node) : 1;
    if (pieces > kMaxPiecesPerJob)
      return InvalidArgument(source + ":" + std::to_string(line_no) + ": " + std::to_string(cpus) +
                             " processors make " + std::to_string(pieces) + " nodes of " +
                             std::to_string(o.cpus_per_node) + " cpus; at most " +
                             std::to_string(kMaxPiecesPerJob) + " per job");
    total_pieces += pieces;
    if (total_pieces > kMaxSwfJobs)
      return InvalidArgument(source + ":" + std::to_string(line_no) + ": more than " +
                             std::to_string(kMaxSwfJobs) + " jobs (after splitting wide ones)");
    max_pieces = std::max(max_pieces, pieces);
    kept.push_back(j);
  }

  std::stable_sort(kept.begin(), kept.end(),
                   [](const SwfJob& a, const SwfJob& b) { return a.submit_ms < b.submit_ms; });
  int64_t base = kept.empty() ? 0 : kept.front().submit_ms;
  int64_t stride = kDefaultStride;
  while (stride < max_pieces) stride *= 10;
  if (o.cpus_per_node > 0) {
    for (const SwfJob& j : kept)
      if (j.number > std::numeric_limits<int64_t>::max() / stride - 1 ||
          j.number < std::numeric_limits<int64_t>::min() / stride + 1)
        return InvalidArgument(source + ": job number " + std::to_string(j.number) +
                               " is too large to derive ids from");
  }

  std::vector<SimJob> jobs;
  jobs.reserve(kept.size());
  for (const SwfJob& j : kept) {
    SimJob s;
    s.submit = FromMillis(j.submit_ms - base);
    s.run = Duration(j.run_ms);
    if (o.cpus_per_node <= 0) {
      s.id = j.number;
      s.need.cpus = static_cast<int>(j.cpus);
      s.need.memory_mb = MemoryMb(j.kb_per_cpu, j.cpus);
      jobs.push_back(s);
      continue;
    }
    int64_t pieces = CeilDiv(j.cpus, o.cpus_per_node);
    for (int64_t k = 0; k < pieces; ++k) {
      int64_t c = std::min<int64_t>(o.cpus_per_node, j.cpus - k * o.cpus_per_node);
      s.id = j.number * stride + k;
      s.need.cpus = static_cast<int>(c);
      s.need.memory_mb = MemoryMb(j.kb_per_cpu, c);
      jobs.push_back(s);
    }
  }
  return jobs;
}

Result<std::vector<SimJob>> LoadSwf(const std::string& path, const SwfOptions& o) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound(path + ": no such file");
    return InvalidArgument(path + ": " + std::strerror(errno));
  }
  // gzread reads plain files as they are, so one path serves both .swf and .swf.gz.
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return InvalidArgument(path + ": cannot open: " + std::strerror(errno));
  gzbuffer(f, 1 << 18);
  std::string text;
  std::vector<char> buf(1 << 18);
  while (true) {
    int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
    if (n <= 0) break;
    text.append(buf.data(), static_cast<size_t>(n));
  }
  int errnum = Z_OK;
  const char* msg = gzerror(f, &errnum);
  std::string error;
  if (errnum == Z_ERRNO) {
    error = std::string("read failed: ") + std::strerror(errno);
  } else if (errnum != Z_OK) {
    std::string_view detail = msg != nullptr ? msg : "";
    if (detail.starts_with(path + ": ")) detail.remove_prefix(path.size() + 2);  // zlib's prefix
    error = "bad gzip data: " + std::string(detail);
  }
  gzclose(f);
  if (!error.empty()) return InvalidArgument(path + ": " + error);
  return ParseSwf(text, path, o);
}

Result<std::vector<SimJob>> Synthetic(std::string_view spec) {
  constexpr int64_t kBig = int64_t{1} << 40;
  constexpr int64_t kMaxJobs = 100'000'000;
  std::array<SyntheticKey, 9> keys = {{
      {"jobs", -1, 0, kMaxJobs},
      {"seed", 1, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()},
      {"burst", 100, 1, kBig},
      {"gap_s", 3600, 0, kBig},
      {"run_min_s", 60, 1, kBig},
      {"run_max_s", 600, 1, kBig},
      {"cpus", 1, 1, INT_MAX},
      {"nodes", 1, 1, INT_MAX},
      {"node_cpus", 2, 1, INT_MAX},
  }};
  std::string_view rest = Trim(spec);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      return InvalidArgument("workload spec: expected key=value, got '" + std::string(item) + "'");
    std::string_view name = Trim(item.substr(0, eq));
    std::string_view value = Trim(item.substr(eq + 1));
    auto key = std::find_if(keys.begin(), keys.end(),
                            [&](const SyntheticKey& k) { return name == k.name; });
    if (key == keys.end())
      return InvalidArgument("workload spec: unknown key '" + std::string(name) +
                             "' (keys: jobs, seed, burst, gap_s, run_min_s, run_max_s, cpus, "
                             "nodes, node_cpus)");
    if (key->seen)
      return InvalidArgument("workload spec: key '" + std::string(name) + "' given twice");
    key->seen = true;
    int64_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size() || value.empty())
      return InvalidArgument("workload spec: " + std::string(name) + " is not an integer: '" +
                             std::string(value) + "'");
    if (v < key->min || v > key->max)
      return InvalidArgument("workload spec: " + std::string(name) + " = " + std::to_string(v) +
                             " is out of range [" + std::to_string(key->min) + ", " +
                             std::to_string(key->max) + "]");
    key->value = v;
  }
  auto get = [&](std::string_view name) {
    return std::find_if(keys.begin(), keys.end(),
                        [&](const SyntheticKey& k) { return name == k.name; })
        ->value;
  };
  if (!keys[0].seen) return InvalidArgument("workload spec: jobs=N is required");
  auto seen = [&](std::string_view name) {
    return std::find_if(keys.begin(), keys.end(),
                        [&](const SyntheticKey& k) { return name == k.name; })
        ->seen;
  };
  if (seen("burst") && seen("nodes"))
    return InvalidArgument("workload spec: give burst or nodes, not both");
  int64_t n = get("jobs"), burst = get("burst"), gap_s = get("gap_s");
  // A burst's jobs all run at once, so `nodes` nodes hold a burst of nodes x (the jobs one
  // node holds).
  if (seen("nodes")) burst = get("nodes") * std::max<int64_t>(1, get("node_cpus") / get("cpus"));
  int64_t run_min = get("run_min_s"), run_max = get("run_max_s");
  int cpus = static_cast<int>(get("cpus"));
  if (run_max < run_min)
    return InvalidArgument("workload spec: run_max_s (" + std::to_string(run_max) +
                           ") is below run_min_s (" + std::to_string(run_min) + ")");
  if ((n - 1) / burst > kBig / std::max<int64_t>(gap_s, 1))
    return InvalidArgument("workload spec: the workload spans more time than can be represented");

  SplitMix64 rng(static_cast<uint64_t>(get("seed")));
  std::vector<SimJob> jobs(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    SimJob& j = jobs[static_cast<size_t>(i)];
    j.id = i + 1;
    j.submit = FromMillis((i / burst) * gap_s * 1000);
    j.run = std::chrono::seconds(rng.Uniform(run_min, run_max));
    j.need.cpus = cpus;
  }
  return jobs;
}

std::string JobsCsv(const std::vector<SimJob>& jobs) {
  std::string out = "submit_s,run_s,cpus,memory_mb\n";
  if (jobs.empty()) return out;
  Time first = jobs.front().submit;
  for (const auto& j : jobs) first = std::min(first, j.submit);
  auto secs = [](Duration d) { return std::chrono::duration<double>(d).count(); };
  char line[128];
  for (const auto& j : jobs) {
    std::snprintf(line, sizeof line, "%.3f,%.3f,%d,%lld\n", secs(j.submit - first), secs(j.run),
                  j.need.cpus, static_cast<long long>(j.need.memory_mb));
    out += line;
  }
  return out;
}

}  // namespace swell::sim
