// The histogram, serial reference: reads the event files one after the other and fills one
// histogram. Its output file is byte-identical to the MapReduce program's.
//
//   histogram-serial --generate 4000000 --files 8 --data /tmp/hep --output mass.txt --json

#include "common.h"

int main(int argc, char** argv) {
  CLI::App app{"Invariant-mass histogram, serial reference"};
  histogram::Flags f;
  histogram::AddFlags(app, f);
  CLI11_PARSE(app, argc, argv);
  auto fail = [](const std::string& what) {
    return swell::examples::Fail("histogram-serial", what);
  };
  if (auto err = histogram::Validate(f); !err.empty()) return fail(err);
  histogram::Binning binning{f.bins, f.lo, f.hi};
  std::vector<std::string> files;
  if (auto err = histogram::Inputs(f, files); !err.empty()) return fail(err);

  auto start = std::chrono::steady_clock::now();
  std::vector<int64_t> counts(binning.size(), 0);
  std::vector<histogram::Event> buffer;
  for (const std::string& path : files) {
    histogram::EventFile file;
    std::string err = histogram::CheckEventFile(path, file);
    if (err.empty()) err = histogram::FillFromFile(file, binning, buffer, counts);
    if (!err.empty()) return fail(err);
  }
  double seconds = swell::examples::SecondsSince(start);

  if (!f.data.output.empty())
    if (auto err = histogram::WriteHistogram(f.data.output, binning, counts); !err.empty())
      return fail(err);
  histogram::Report("serial", 1, f, histogram::Total(counts), seconds);
  return 0;
}
