#pragma once

// What the three K-means programs share (the MapReduce one, the MPI baseline and the serial
// reference): flags, the seeded data generator, reading a partition, the assignment step and
// the update step. They read the same partition files and add in the same order where they can,
// so that their centres can be compared bit for bit.
//
// Data: a data set is P partition files part-0000.bin ... (raw float64, D per point, host byte
// order) and, for the hadoop mode, the same points as text part-0000.txt (one point per line,
// D numbers separated by spaces, printed with 17 significant digits, which reads back exactly).

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "../common/example.h"

namespace kmeans {

struct Flags {
  int64_t generate = 0;          // points to generate (0: read --input)
  std::vector<std::string> input;
  std::string data = "kmeans-data";  // where --generate writes
  int dims = 2;
  int k = 4;
  int iterations = 10;
  double threshold = 0;          // stop when no centre moves more than this (0: never)
  uint64_t seed = 1;
  int partitions = 8;
  std::string output;
  bool text = false;             // generate and read the text form
  bool json = false;
};

// Adds the shared flags to `app`.
inline void AddFlags(CLI::App& app, Flags& f) {
  app.add_option("--generate", f.generate, "generate this many points (seeded) instead of --input")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  app.add_option("--input", f.input, "partition files (.bin: float64; .txt: one point per line)");
  app.add_option("--data", f.data, "directory --generate writes the partition files to");
  app.add_option("--dims", f.dims, "dimensions")->check(CLI::Range(1, 1 << 16));
  app.add_option("--k", f.k, "centres")->check(CLI::Range(1, 1 << 20));
  app.add_option("--iterations", f.iterations, "iterations at most")->check(CLI::Range(1, 1 << 20));
  app.add_option("--threshold", f.threshold, "stop once no centre moves more than this")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", f.seed, "generator seed");
  app.add_option("--partitions", f.partitions, "partition files --generate writes")
      ->check(CLI::Range(1, 1 << 16));
  app.add_option("--output", f.output, "write the final centres here (text, 17 digits)");
  app.add_flag("--text", f.text, "generate and read the text form of the data");
  app.add_flag("--json", f.json, "print one JSON line with the timings last");
}

using Rng = swell::examples::Rng;

inline std::string PartName(const std::string& dir, int p, bool text) {
  return swell::examples::PartName(dir, p, text ? "txt" : "bin");
}

// Points around 2k seeded true centres in [0, 100)^dims with unit noise, split into
// `partitions` files of consecutive points. Returns the file names, or an error message.
inline std::string Generate(const Flags& f, std::vector<std::string>& files) {
  std::error_code ec;
  std::filesystem::create_directories(f.data, ec);
  if (ec) return "cannot create " + f.data + ": " + ec.message();
  Rng rng{f.seed};
  int truth = 2 * f.k;
  std::vector<double> centres(static_cast<size_t>(truth) * f.dims);
  for (double& c : centres) c = 100 * rng.Uniform();
  std::vector<double> point(f.dims);
  for (int p = 0; p < f.partitions; ++p) {
    int64_t begin = f.generate * p / f.partitions, end = f.generate * (p + 1) / f.partitions;
    std::string name = PartName(f.data, p, f.text);
    std::ofstream out(name, std::ios::binary | std::ios::trunc);
    if (!out) return "cannot write " + name;
    for (int64_t i = begin; i < end; ++i) {
      size_t c = rng.Next() % truth;
      for (int d = 0; d < f.dims; ++d) point[d] = centres[c * f.dims + d] + rng.Normal();
      if (f.text) {
        for (int d = 0; d < f.dims; ++d) {
          char num[32];
          std::snprintf(num, sizeof num, d ? " %.17g" : "%.17g", point[d]);
          out << num;
        }
        out << '\n';
      } else {
        out.write(reinterpret_cast<const char*>(point.data()),
                  static_cast<std::streamsize>(point.size() * sizeof(double)));
      }
    }
    if (!out.flush()) return "cannot write " + name;
    files.push_back(name);
  }
  return "";
}

// Reads one partition file (.txt parsed line by line, as Hadoop's TextInputFormat hands lines
// to a mapper; anything else raw float64). Returns an error message or "".
inline std::string ReadPartition(const std::string& path, int dims, std::vector<double>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot open " + path;
  out.clear();
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".txt") == 0) {
    std::string line;
    int64_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      const char* s = line.c_str();
      for (int d = 0; d < dims; ++d) {
        char* end = nullptr;
        double v = std::strtod(s, &end);
        if (end == s) return path + ":" + std::to_string(n) + ": expected " + std::to_string(dims) + " numbers";
        out.push_back(v);
        s = end;
      }
    }
    return "";
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  if (bytes.size() % (sizeof(double) * dims) != 0)
    return path + ": " + std::to_string(bytes.size()) + " bytes is not a whole number of " +
           std::to_string(dims) + "-dimensional points";
  out.resize(bytes.size() / sizeof(double));
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return "";
}

// The assignment step over one partition: adds each point to its nearest centre's sum (ties
// to the lower index). `sums` holds k rows of dims sums followed by the count.
inline void Assign(const std::vector<double>& points, const std::vector<double>& centres,
                   int dims, int k, std::vector<double>& sums) {
  sums.assign(static_cast<size_t>(k) * (dims + 1), 0.0);
  size_t n = points.size() / dims;
  for (size_t i = 0; i < n; ++i) {
    const double* x = &points[i * dims];
    int best = 0;
    double best_d = std::numeric_limits<double>::infinity();
    for (int c = 0; c < k; ++c) {
      const double* m = &centres[static_cast<size_t>(c) * dims];
      double dist = 0;
      for (int d = 0; d < dims; ++d) {
        double t = x[d] - m[d];
        dist += t * t;
      }
      if (dist < best_d) {
        best_d = dist;
        best = c;
      }
    }
    double* s = &sums[static_cast<size_t>(best) * (dims + 1)];
    for (int d = 0; d < dims; ++d) s[d] += x[d];
    s[dims] += 1;
  }
}

// The update step: each centre moves to the mean of its points (a centre without points stays).
// Returns how far the farthest centre moved.
inline double Update(const std::vector<double>& sums, int dims, int k,
                     std::vector<double>& centres) {
  double moved = 0;
  for (int c = 0; c < k; ++c) {
    const double* s = &sums[static_cast<size_t>(c) * (dims + 1)];
    if (s[dims] == 0) continue;
    double shift = 0;
    for (int d = 0; d < dims; ++d) {
      double v = s[d] / s[dims];
      double t = v - centres[static_cast<size_t>(c) * dims + d];
      shift += t * t;
      centres[static_cast<size_t>(c) * dims + d] = v;
    }
    moved = std::max(moved, std::sqrt(shift));
  }
  return moved;
}

// The first k points of the first partition: every program starts from the same centres.
inline std::string InitialCentres(const std::string& first_partition, int dims, int k,
                                  std::vector<double>& centres) {
  std::vector<double> pts;
  std::string err = ReadPartition(first_partition, dims, pts);
  if (!err.empty()) return err;
  if (pts.size() < static_cast<size_t>(k) * dims)
    return first_partition + " holds fewer than k = " + std::to_string(k) + " points";
  centres.assign(pts.begin(), pts.begin() + static_cast<ptrdiff_t>(k) * dims);
  return "";
}

inline std::string WriteCentres(const std::string& path, const std::vector<double>& centres,
                                int dims) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return "cannot write " + path;
  for (size_t i = 0; i < centres.size(); ++i) {
    char num[32];
    std::snprintf(num, sizeof num, "%.17g", centres[i]);
    out << num << ((i + 1) % dims == 0 ? '\n' : ' ');
  }
  return out.flush() ? "" : "cannot write " + path;
}

// The data set: generated (on the driver only) or the --input files.
inline std::string Inputs(const Flags& f, std::vector<std::string>& files) {
  if (f.generate > 0) return Generate(f, files);
  if (f.input.empty()) return "give --generate POINTS or --input FILES";
  files = f.input;
  return "";
}

// The data set's files and the initial centres (Inputs, then InitialCentres).
inline std::string Prepare(const Flags& f, std::vector<std::string>& files,
                           std::vector<double>& centres) {
  if (auto err = Inputs(f, files); !err.empty()) return err;
  return InitialCentres(files[0], f.dims, f.k, centres);
}

using swell::examples::Fail;

}  // namespace kmeans
