// A HEP-style analysis on libswell_mr: histogram the invariant mass of the events in a set of
// event files. One map task per file fills a partial histogram of its events; reduce adds the
// partial histograms bin by bin, and the driver writes the histogram. A plain map-reduce job:
// one iteration, no dynamic data.
//
// As in the CGL-MapReduce paper's HEP analysis, a map task is handed a data file to run the
// analysis over: its static data is the file (checked once, at Load), and the map streams the
// events from it. Holding the events in memory would pay for nothing in a single pass.
//
//   histogram --local 2 --generate 4000000 --files 8 --data /tmp/hep --output mass.txt --json
//   histogram --local 2 --input a.events b.events --bins 50 --lo 110 --hi 140 --output mass.txt
//   histogram --local 2 --mr-mode=hadoop --generate ... (the file-based ablation)

#include "common.h"
#include "swell/mr/mr.h"

using swell::Status;

namespace {

// Map cannot fail (the runtime's Map returns nothing): a map task that cannot read its file
// counts it under this key, which is no bin, and the driver fails the job.
constexpr int32_t kUnreadable = -2;

struct Histogram {
  using Static = histogram::EventFile;  // one file, its header checked
  using Key = int32_t;                  // a bin (-1 underflow, bins overflow) or kUnreadable
  using Value = int64_t;                // its count

  explicit Histogram(histogram::Binning b) : binning(b) {}
  histogram::Binning binning;

  Status Load(const std::string& path, Static& file) {
    std::string err = histogram::CheckEventFile(path, file);
    return err.empty() ? Status::Ok() : swell::InvalidArgument(err);
  }

  // The map fills a dense partial histogram (a counter per bin is far cheaper than an emitted
  // pair per event) and emits its non-empty bins; keyed by bin, the partial histograms are
  // spread over the reducers.
  void Map(const Static& file, const swell::mr::NoData&, swell::mr::Emitter<Key, Value>& emit) {
    counts_.assign(binning.size(), 0);
    if (auto err = histogram::FillFromFile(file, binning, buffer_, counts_); !err.empty()) {
      std::fprintf(stderr, "histogram: %s\n", err.c_str());  // the worker's stderr: the cause
      emit.Emit(kUnreadable, 1);
      return;
    }
    for (int bin = -1; bin <= binning.bins; ++bin)
      if (int64_t n = counts_[static_cast<size_t>(bin + 1)]; n > 0) emit.Emit(bin, n);
  }

  // The combiner (map side) and the reduce: counts add exactly, in any order.
  void Combine(Value& into, const Value& v) { into += v; }

 private:
  std::vector<int64_t> counts_;
  std::vector<histogram::Event> buffer_;
};

}  // namespace

int main(int argc, char** argv) {
  swell::mr::Runtime rt(argc, argv);
  CLI::App app{"Invariant-mass histogram on swell's MapReduce runtime"};
  histogram::Flags f;
  histogram::AddFlags(app, f);
  CLI11_PARSE(app, argc, argv);
  auto fail = [](const std::string& what) { return swell::examples::Fail("histogram", what); };
  if (auto err = histogram::Validate(f); !err.empty()) return fail(err);
  histogram::Binning binning{f.bins, f.lo, f.hi};
  rt.Register<Histogram>("histogram", [&] { return Histogram{binning}; });
  if (rt.is_worker()) return rt.Serve();

  std::vector<std::string> files;
  if (auto err = histogram::Inputs(f, files); !err.empty()) return fail(err);

  auto start = std::chrono::steady_clock::now();
  auto job = rt.Open<Histogram>("histogram", files);
  if (!job.ok()) return fail(job.status().ToString());
  auto out = job->Iterate();
  if (!out.ok()) return fail(out.status().ToString());
  std::vector<int64_t> counts(binning.size(), 0);
  for (const auto& [bin, n] : *out) {
    if (bin == kUnreadable)
      return fail(std::to_string(n) +
                  " of the files could not be read by the map tasks "
                  "(the workers said why)");
    if (bin < -1 || bin > binning.bins) return fail("reduce returned bin " + std::to_string(bin));
    counts[static_cast<size_t>(bin + 1)] = n;
  }
  double seconds = swell::examples::SecondsSince(start);

  if (!f.data.output.empty())
    if (auto err = histogram::WriteHistogram(f.data.output, binning, counts); !err.empty())
      return fail(err);
  std::string impl = rt.hadoop() ? "hadoop" : "swell";
  histogram::Report(impl.c_str(), job->workers(), f, histogram::Total(counts), seconds);
  return 0;
}
