#pragma once

// What the example applications share: the seeded generator, file names and reading, the data
// set flags of the single-pass applications, and how a program reports an error. Each
// application's MapReduce program and its serial reference include this (through their own
// common.h), so that they generate and read the same bytes.

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace swell::examples {

// splitmix64: small, fast and the same everywhere, so a seed names the same data set on every
// machine and in every program.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // In [0, 1), with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Normal() {  // Box-Muller
    double u = Uniform(), v = Uniform();
    return std::sqrt(-2 * std::log(u + 0x1.0p-60)) * std::cos(2 * M_PI * v);
  }
  // An integer in [lo, hi] (the tiny modulo bias does not matter for test data).
  int64_t Int(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
};

// "<dir>/part-0003.<ext>".
inline std::string PartName(const std::string& dir, int p, const std::string& ext) {
  char name[32];
  std::snprintf(name, sizeof name, "/part-%04d.", p);
  return dir + name + ext;
}

inline bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// mkdir -p; returns an error message or "".
inline std::string MakeDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return ec ? "cannot create " + dir + ": " + ec.message() : "";
}

// Reads a whole file; returns an error message or "". A regular file is read straight into
// `out` at its size (through a stringstream it would be copied twice more, which costs as much
// as the histogram's whole map).
inline std::string ReadAll(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot open " + path;
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && std::filesystem::is_regular_file(path, ec)) {
    out.resize(size);
    in.read(out.data(), static_cast<std::streamsize>(size));
    if (static_cast<size_t>(in.gcount()) != size) return "cannot read " + path;
    return "";
  }
  std::ostringstream ss;  // a pipe or device: no size to go by
  ss << in.rdbuf();
  if (in.bad()) return "cannot read " + path;
  out = std::move(ss).str();
  return "";
}

// Writes `text` to `path` (truncating); returns an error message or "".
inline std::string WriteAll(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return "cannot write " + path;
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  return out.flush() ? "" : "cannot write " + path;
}

inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Prints "<program>: <what>" to stderr and returns 1 (the exit code).
inline int Fail(const char* program, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", program, what.c_str());
  return 1;
}

// The flags every application has: the seed of its data, the directory its generated files
// go to, where the result goes, and --json.
struct CommonFlags {
  uint64_t seed = 1;
  std::string data;
  std::string output;
  bool json = false;
};

inline void AddCommonFlags(CLI::App& app, CommonFlags& f, const std::string& data_help,
                           const std::string& output_help) {
  app.add_option("--seed", f.seed, "generator seed");
  app.add_option("--data", f.data, data_help);
  app.add_option("--output", f.output, output_help);
  app.add_flag("--json", f.json, "print one JSON line with the throughput last");
}

// The data set of a single-pass application (histogram, wordcount): files it generates from a
// seed, or files the user names.
struct DataFlags : CommonFlags {
  int64_t generate = 0;  // items to generate (0: read --input)
  int files = 4;
  std::vector<std::string> input;
};

// Adds the data set flags; `unit` names what --generate counts ("EVENTS", "WORDS").
inline void AddDataFlags(CLI::App& app, DataFlags& f, const std::string& unit) {
  AddCommonFlags(app, f, "directory --generate writes the files to", "write the result here");
  app.add_option("--generate", f.generate,
                 "generate this many " + unit + " (seeded) instead of reading --input")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  app.add_option("--files", f.files, "files --generate writes (one map task each)")
      ->check(CLI::Range(1, 1 << 16));
  app.add_option("--input", f.input, "input files (one map task each)");
}

// Writes a generated data set as f.files files in f.data and appends their names.
using Generator = std::function<std::string(const DataFlags& f, std::vector<std::string>& files)>;

// The input files: `generate`'s when --generate was given (on the driver only), else --input.
// Returns an error message or "".
inline std::string Inputs(const DataFlags& f, const std::string& unit, const Generator& generate,
                          std::vector<std::string>& files) {
  if (f.generate > 0) {
    if (!f.input.empty()) return "give --generate or --input, not both";
    if (auto err = MakeDir(f.data); !err.empty()) return err;
    return generate(f, files);
  }
  if (f.input.empty()) return "give --generate " + unit + " or --input FILES";
  files = f.input;
  return "";
}

}  // namespace swell::examples
