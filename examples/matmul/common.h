#pragma once

// What the matrix multiplication programs share (the MapReduce one and the naive serial
// product): the seeded matrices, the blocks, the files that hold B's column blocks and how C is
// written.
//
// Exactness: A and B hold small integers (-9 to 9) stored as doubles. Every product is at most
// 81 in magnitude and every partial sum at most 81 n, far below 2^53, so every addition and
// multiplication is exact and any order of summation gives the same double. The MapReduce C
// therefore equals the naive C bit for bit, and the test compares their files byte for byte.

#include <cinttypes>
#include <cstdlib>
#include <cstring>

#include "../common/example.h"

namespace matmul {

namespace ex = swell::examples;

struct Flags : ex::CommonFlags {
  int n = 512;
  int blocks = 4;
  bool text = false;
};

inline void AddFlags(CLI::App& app, Flags& f) {
  f.data = "matmul-data";
  ex::AddCommonFlags(app, f, "directory B's column blocks are written to",
                     "write C here (text, one row per line)");
  app.add_option("--n", f.n, "the matrices are n x n")->check(CLI::Range(1, 1 << 16));
  app.add_option("--blocks", f.blocks, "A's row blocks and B's column blocks (map tasks)")
      ->check(CLI::Range(1, 1 << 16));
  app.add_flag("--text", f.text, "write and read B's column blocks as text");
}

// The checks CLI11 cannot express; an error message or "".
inline std::string Validate(const Flags& f) {
  if (f.blocks > f.n)
    return "--blocks " + std::to_string(f.blocks) + " is more than --n " + std::to_string(f.n) +
           ": a block needs at least one row";
  return "";
}

// Block b of k over n rows (or columns) starts here; blocks differ in size by one at most.
inline int BlockStart(int n, int k, int b) {
  return static_cast<int>(static_cast<int64_t>(n) * b / k);
}

inline int BlockSize(int n, int k, int b) { return BlockStart(n, k, b + 1) - BlockStart(n, k, b); }

// A and B (n x n, row-major) from the seed: integers in [-9, 9] (see the top of this file).
inline void Generate(int n, uint64_t seed, std::vector<double>& a, std::vector<double>& b) {
  ex::Rng rng{seed};
  a.resize(static_cast<size_t>(n) * n);
  b.resize(a.size());
  for (double& x : a) x = static_cast<double>(rng.Int(-9, 9));
  for (double& x : b) x = static_cast<double>(rng.Int(-9, 9));
}

// Column block `index` of B: all n rows, `cols` columns, row-major.
struct Block {
  int32_t index = 0;
  int32_t rows = 0, cols = 0;
  std::vector<double> v;
};

inline Block ColumnBlock(const std::vector<double>& b, int n, int k, int index) {
  Block blk;
  blk.index = index;
  blk.rows = n;
  int c0 = BlockStart(n, k, index);
  blk.cols = BlockSize(n, k, index);
  blk.v.reserve(static_cast<size_t>(blk.rows) * blk.cols);
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < blk.cols; ++c) blk.v.push_back(b[static_cast<size_t>(r) * n + c0 + c]);
  return blk;
}

// A block file: binary (.bin: int32 index, rows, cols, a zero int32, then the values as
// float64) or text (.txt, as Hadoop would read it: "index rows cols" on the first line, then a
// row per line). Returns an error message or "".
inline std::string WriteBlock(const std::string& path, const Block& blk) {
  std::string out;
  if (ex::EndsWith(path, ".txt")) {
    out = std::to_string(blk.index) + " " + std::to_string(blk.rows) + " " +
          std::to_string(blk.cols) + "\n";
    char num[32];
    for (size_t i = 0; i < blk.v.size(); ++i) {
      std::snprintf(num, sizeof num, "%.17g", blk.v[i]);
      out += num;
      out += (i + 1) % static_cast<size_t>(blk.cols) == 0 ? '\n' : ' ';
    }
  } else {
    int32_t head[4] = {blk.index, blk.rows, blk.cols, 0};
    out.assign(reinterpret_cast<const char*>(head), sizeof head);
    out.append(reinterpret_cast<const char*>(blk.v.data()), blk.v.size() * sizeof(double));
  }
  return ex::WriteAll(path, out);
}

// Reads a block file of either form; returns an error message or "".
inline std::string ReadBlock(const std::string& path, Block& blk) {
  std::string bytes;
  if (auto err = ex::ReadAll(path, bytes); !err.empty()) return err;
  auto bad = [&](const std::string& what) { return path + ": " + what; };
  if (ex::EndsWith(path, ".txt")) {
    const char* s = bytes.c_str();
    char* end = nullptr;
    int32_t head[3];
    for (int32_t& h : head) {
      long v = std::strtol(s, &end, 10);
      if (end == s || v < 0 || v > (1 << 30)) return bad("expected 'index rows cols' first");
      h = static_cast<int32_t>(v);
      s = end;
    }
    blk.index = head[0], blk.rows = head[1], blk.cols = head[2];
    // Each number takes two characters at least: a header that promises more is wrong, and
    // believing it would allocate for nothing.
    if (static_cast<size_t>(blk.rows) * blk.cols > bytes.size() / 2)
      return bad("fewer than rows x cols numbers");
    blk.v.resize(static_cast<size_t>(blk.rows) * blk.cols);
    for (double& x : blk.v) {
      x = std::strtod(s, &end);
      if (end == s) return bad("fewer than rows x cols numbers");
      s = end;
    }
    return "";
  }
  int32_t head[4];
  if (bytes.size() < sizeof head) return bad("too short for a block header");
  std::memcpy(head, bytes.data(), sizeof head);
  if (head[1] < 0 || head[2] < 0 ||
      bytes.size() - sizeof head != static_cast<size_t>(head[1]) * head[2] * sizeof(double))
    return bad("its size does not match its header");
  blk.index = head[0], blk.rows = head[1], blk.cols = head[2];
  blk.v.resize(static_cast<size_t>(blk.rows) * blk.cols);
  std::memcpy(blk.v.data(), bytes.data() + sizeof head, blk.v.size() * sizeof(double));
  return "";
}

// C as text: n lines of n numbers (integers, by construction). Returns an error message or "".
inline std::string WriteMatrix(const std::string& path, const std::vector<double>& c, int n) {
  std::string out;
  char num[32];
  for (size_t i = 0; i < c.size(); ++i) {
    std::snprintf(num, sizeof num, "%.17g", c[i]);
    out += num;
    out += (i + 1) % static_cast<size_t>(n) == 0 ? '\n' : ' ';
  }
  return ex::WriteAll(path, out);
}

// The summary line and, with --json, the JSON line (last), shared so both programs report the
// same fields (the serial product is one block). The product takes n^3 multiply-adds: 2 n^3
// flops.
inline void Report(const char* impl, int workers, const Flags& f, int blocks, double load_s,
                   double seconds) {
  double flops = 2.0 * f.n * f.n * f.n;
  double gflops = seconds > 0 ? flops / seconds / 1e9 : 0;
  std::printf(
      "matmul (%s, %d worker%s): n %d in %d block%s, %.3f s (%.3f s loading), "
      "%.3f GFLOP/s\n",
      impl, workers, workers == 1 ? "" : "s", f.n, blocks, blocks == 1 ? "" : "s", seconds, load_s,
      gflops);
  if (f.json)
    std::printf(
        "{\"impl\": \"%s\", \"workers\": %d, \"n\": %d, \"blocks\": %d, "
        "\"seconds\": %.6f, \"load_s\": %.6f, \"gflops_per_s\": %.4f}\n",
        impl, workers, f.n, blocks, seconds, load_s, gflops);
}

}  // namespace matmul
