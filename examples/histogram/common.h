#pragma once

// What the histogram programs share (the MapReduce one and the serial reference): the event
// files and their seeded generator, the binning, filling a histogram and writing it. Counts are
// integers, so any grouping of the files gives the same histogram: the two programs' outputs
// are compared byte for byte.
//
// An event file: a 16-byte header ("SWHEPEV1", then the number of float64 fields per event as
// a uint32, then a zero uint32) and the events, each `kFields` float64 in host byte order.

#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "../common/example.h"

namespace histogram {

namespace ex = swell::examples;

// One collision event, as a flat ntuple row: the candidate's invariant mass, its transverse
// momentum, pseudorapidity and azimuth. The analysis histograms the mass; the other fields are
// there so that reading an event costs what reading a row of a real ntuple costs.
struct Event {
  double mass, pt, eta, phi;
};
constexpr uint32_t kFields = sizeof(Event) / sizeof(double);
constexpr char kMagic[8] = {'S', 'W', 'H', 'E', 'P', 'E', 'V', '1'};
constexpr size_t kHeader = 16;

// The generated physics: a narrow resonance (mean 125, sigma 2, like a Higgs boson in the
// diphoton channel) over a falling exponential background in [100, 200).
constexpr double kSignalFraction = 0.05, kSignalMean = 125, kSignalSigma = 2;
constexpr double kBackgroundLo = 100, kBackgroundHi = 200, kBackgroundSlope = 30;

struct Flags {
  ex::DataFlags data;
  int bins = 100;
  double lo = 100, hi = 200;
};

inline void AddFlags(CLI::App& app, Flags& f) {
  f.data.data = "histogram-data";
  ex::AddDataFlags(app, f.data, "EVENTS");
  app.add_option("--bins", f.bins, "histogram bins between --lo and --hi")
      ->check(CLI::Range(1, 1 << 24));
  app.add_option("--lo", f.lo, "lower edge of the first bin");
  app.add_option("--hi", f.hi, "upper edge of the last bin");
}

// The checks CLI11 cannot express; an error message or "".
inline std::string Validate(const Flags& f) {
  if (!std::isfinite(f.lo) || !std::isfinite(f.hi) || !(f.lo < f.hi))
    return "--lo must be below --hi (and both finite)";
  return "";
}

inline Event GenerateEvent(ex::Rng& rng) {
  Event e{};
  if (rng.Uniform() < kSignalFraction) {
    e.mass = kSignalMean + kSignalSigma * rng.Normal();
  } else {
    // Inverse transform of the exponential truncated to the background's range.
    double span = 1 - std::exp(-(kBackgroundHi - kBackgroundLo) / kBackgroundSlope);
    e.mass = kBackgroundLo - kBackgroundSlope * std::log(1 - rng.Uniform() * span);
    e.mass = std::min(e.mass, std::nextafter(kBackgroundHi, 0.0));  // round-off at the edge
  }
  e.pt = -40 * std::log(1 - rng.Uniform());
  e.eta = -2.5 + 5 * rng.Uniform();
  e.phi = M_PI * (2 * rng.Uniform() - 1);
  return e;
}

// Writes `events` events split into f.files files of consecutive events; the file names go to
// `files`. Returns an error message or "".
inline std::string Generate(const ex::DataFlags& f, std::vector<std::string>& files) {
  ex::Rng rng{f.seed};
  std::vector<Event> events;
  for (int p = 0; p < f.files; ++p) {
    int64_t begin = f.generate * p / f.files, end = f.generate * (p + 1) / f.files;
    events.clear();
    for (int64_t i = begin; i < end; ++i) events.push_back(GenerateEvent(rng));
    std::string bytes(kHeader, '\0');
    std::memcpy(bytes.data(), kMagic, sizeof kMagic);
    std::memcpy(bytes.data() + sizeof kMagic, &kFields, sizeof kFields);
    bytes.append(reinterpret_cast<const char*>(events.data()), events.size() * sizeof(Event));
    std::string name = ex::PartName(f.data, p, "events");
    if (auto err = ex::WriteAll(name, bytes); !err.empty()) return err;
    files.push_back(name);
  }
  return "";
}

// The input files: generated (on the driver only) or --input. An error message or "".
inline std::string Inputs(const Flags& f, std::vector<std::string>& files) {
  return ex::Inputs(f.data, "EVENTS", Generate, files);
}

// An event file whose header and size have been checked.
struct EventFile {
  std::string path;
  int64_t events = 0;
};

// Checks `path`'s header and size; returns an error message or "".
inline std::string CheckEventFile(const std::string& path, EventFile& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot open " + path;
  char head[kHeader] = {};
  in.read(head, sizeof head);
  if (in.gcount() != sizeof head || std::memcmp(head, kMagic, sizeof kMagic) != 0)
    return path + ": not an event file (no SWHEPEV1 header)";
  uint32_t fields = 0;
  std::memcpy(&fields, head + sizeof kMagic, sizeof fields);
  if (fields != kFields)
    return path + ": events of " + std::to_string(fields) + " fields, expected " +
           std::to_string(kFields);
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return "cannot read " + path + ": " + ec.message();
  if ((size - kHeader) % sizeof(Event) != 0)
    return path + ": " + std::to_string(size - kHeader) +
           " bytes of events is not a whole number of " + std::to_string(sizeof(Event)) +
           "-byte events (truncated?)";
  out = {path, static_cast<int64_t>((size - kHeader) / sizeof(Event))};
  return "";
}

// Bins -1 (underflow: below lo, or NaN) and `bins` (overflow: hi and above) hold what falls
// outside [lo, hi), so a histogram counts every event.
struct Binning {
  int bins;
  double lo, hi;
  int Bin(double x) const {
    if (!(x >= lo)) return -1;
    if (!(x < hi)) return bins;
    // Round-off can put x just below hi into bin `bins`: it belongs to the last bin.
    return std::min(static_cast<int>((x - lo) / (hi - lo) * bins), bins - 1);
  }
  // Counts are kept in a vector indexed by bin + 1.
  size_t size() const { return static_cast<size_t>(bins) + 2; }
};

// Reads a checked file's events and adds their masses to `counts` (Binning::size() entries,
// indexed by bin + 1). The events stream through `buffer` a megabyte at a time: a single pass
// gains nothing from holding a whole file, and a small buffer that stays in the cache reads
// at memory speed where a file-sized one would pay a page fault every 4 KiB. Returns an error
// message or "" (the file may have changed since it was checked).
inline std::string FillFromFile(const EventFile& file, const Binning& b, std::vector<Event>& buffer,
                                std::vector<int64_t>& counts) {
  std::ifstream in(file.path, std::ios::binary);
  if (!in || !in.seekg(kHeader)) return "cannot open " + file.path;
  constexpr int64_t kChunk = (1 << 20) / sizeof(Event);
  for (int64_t left = file.events; left > 0;) {
    buffer.resize(static_cast<size_t>(std::min(left, kChunk)));
    auto bytes = static_cast<std::streamsize>(buffer.size() * sizeof(Event));
    if (!in.read(reinterpret_cast<char*>(buffer.data()), bytes))
      return file.path + ": cannot read its " + std::to_string(file.events) +
             " events (did it change since it was checked?)";
    for (const Event& e : buffer) ++counts[static_cast<size_t>(b.Bin(e.mass) + 1)];
    left -= static_cast<int64_t>(buffer.size());
  }
  return "";
}

// "bin_lo count" per line, from the underflow bin (its lower edge is -inf) to the overflow bin
// (its lower edge is hi). Returns an error message or "".
inline std::string WriteHistogram(const std::string& path, const Binning& b,
                                  const std::vector<int64_t>& counts) {
  std::string text;
  char line[64];
  for (int bin = -1; bin <= b.bins; ++bin) {
    double edge = bin < 0 ? -INFINITY : b.lo + (b.hi - b.lo) * bin / b.bins;
    std::snprintf(line, sizeof line, "%.10g %" PRId64 "\n", edge, counts[bin + 1]);
    text += line;
  }
  return ex::WriteAll(path, text);
}

inline int64_t Total(const std::vector<int64_t>& counts) {
  int64_t n = 0;
  for (int64_t c : counts) n += c;
  return n;
}

// The summary line and, with --json, the JSON line (last), shared so both programs report the
// same fields.
inline void Report(const char* impl, int workers, const Flags& f, int64_t events, double seconds) {
  double rate = seconds > 0 ? static_cast<double>(events) / seconds : 0;
  std::printf("histogram (%s, %d worker%s): %" PRId64 " events in %.3f s, %.0f events/s\n", impl,
              workers, workers == 1 ? "" : "s", events, seconds, rate);
  if (f.data.json)
    std::printf("{\"impl\": \"%s\", \"workers\": %d, \"events\": %" PRId64
                ", \"seconds\": %.6f, \"events_per_s\": %.1f}\n",
                impl, workers, events, seconds, rate);
}

}  // namespace histogram
