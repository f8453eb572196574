// Matrix multiplication C = A x B on libswell_mr, as in the CGL-MapReduce paper. B is split
// into column blocks: each map task keeps one column block of B in memory for the whole run
// (the static data, loaded once from the files the driver writes). A is split into row blocks,
// streamed through the iterations as the dynamic data: iteration i broadcasts row block i of A,
// every map task multiplies it by its column block j and emits C's block (i, j) keyed by j, and
// the driver places the blocks into row block i of C. A map-only job: the blocks of C go
// straight to the driver, with no shuffle and no reduce.
//
//   matmul --local 2 --n 1024 --blocks 8 --data /tmp/mm --output c.txt --json
//   matmul --local 2 --mr-mode=hadoop --n 1024 --blocks 8 ... (the file-based ablation)

#include <set>

#include "common.h"
#include "swell/mr/mr.h"

using swell::Status;

namespace {

struct MatMul {
  using Static = matmul::Block;         // column block j of B
  using Dynamic = std::vector<double>;  // row block i of A: its rows x n, row-major
  using Key = int32_t;                  // j
  using Value = std::vector<double>;    // block (i, j) of C: A's rows x B's cols, row-major

  explicit MatMul(const matmul::Flags& f) : n(f.n), blocks(f.blocks) {}
  int n, blocks;

  Status Load(const std::string& file, Static& blk) {
    if (auto err = matmul::ReadBlock(file, blk); !err.empty()) return swell::InvalidArgument(err);
    bool ours = blk.index >= 0 && blk.index < blocks;
    if (!ours || blk.rows != n || blk.cols != matmul::BlockSize(n, blocks, blk.index))
      return swell::InvalidArgument(file + " holds column block " + std::to_string(blk.index) +
                                    " of " + std::to_string(blk.rows) + " x " +
                                    std::to_string(blk.cols) + ", not one of the " +
                                    std::to_string(blocks) + " column blocks of an " +
                                    std::to_string(n) + " x " + std::to_string(n) + " B");
    return Status::Ok();
  }

  // The i-k-j loop order streams through rows of A, B and C; each element of C still sums its
  // n products in k order, as the naive product does.
  void Map(const Static& b, const Dynamic& a, swell::mr::Emitter<Key, Value>& emit) {
    size_t rows = a.size() / static_cast<size_t>(n), w = static_cast<size_t>(b.cols);
    Value c(rows * w, 0.0);
    for (size_t r = 0; r < rows; ++r) {
      double* out = &c[r * w];
      for (size_t k = 0; k < static_cast<size_t>(n); ++k) {
        double x = a[r * n + k];
        const double* row = &b.v[k * w];
        for (size_t j = 0; j < w; ++j) out[j] += x * row[j];
      }
    }
    emit.Emit(b.index, c);
  }
};

}  // namespace

int main(int argc, char** argv) {
  swell::mr::Runtime rt(argc, argv);
  CLI::App app{"Matrix multiplication on swell's MapReduce runtime"};
  matmul::Flags f;
  matmul::AddFlags(app, f);
  CLI11_PARSE(app, argc, argv);
  if (rt.hadoop()) f.text = true;  // Hadoop reads text, as TextInputFormat does
  auto fail = [](const std::string& what) { return swell::examples::Fail("matmul", what); };
  if (auto err = matmul::Validate(f); !err.empty()) return fail(err);
  rt.Register<MatMul>("matmul", [&] { return MatMul(f); });
  if (rt.is_worker()) return rt.Serve();

  std::vector<double> a, b;
  matmul::Generate(f.n, f.seed, a, b);
  if (auto err = swell::examples::MakeDir(f.data); !err.empty()) return fail(err);
  std::vector<std::string> files;
  for (int j = 0; j < f.blocks; ++j) {
    files.push_back(swell::examples::PartName(f.data, j, f.text ? "txt" : "bin"));
    if (auto err = matmul::WriteBlock(files.back(), matmul::ColumnBlock(b, f.n, f.blocks, j));
        !err.empty())
      return fail(err);
  }
  b = {};  // the workers hold B now

  auto start = std::chrono::steady_clock::now();
  auto job = rt.Open<MatMul>("matmul", files);
  if (!job.ok()) return fail(job.status().ToString());
  std::vector<double> c(static_cast<size_t>(f.n) * f.n);
  double load_s = 0;
  for (int i = 0; i < f.blocks; ++i) {
    size_t r0 = static_cast<size_t>(matmul::BlockStart(f.n, f.blocks, i));
    size_t r1 = static_cast<size_t>(matmul::BlockStart(f.n, f.blocks, i + 1));
    std::vector<double> rows(a.begin() + static_cast<ptrdiff_t>(r0 * f.n),
                             a.begin() + static_cast<ptrdiff_t>(r1 * f.n));
    auto out = job->Iterate(rows);
    if (!out.ok()) return fail(out.status().ToString());
    load_s += job->last_stats().load_s;
    // Row block i of C: one block per column block j, each exactly once.
    std::set<int32_t> seen;
    for (const auto& [j, blk] : *out) {
      if (j < 0 || j >= f.blocks || !seen.insert(j).second)
        return fail("iteration " + std::to_string(i) + ": a map task returned column block " +
                    std::to_string(j) + " again or out of range");
      size_t c0 = static_cast<size_t>(matmul::BlockStart(f.n, f.blocks, j));
      size_t w = static_cast<size_t>(matmul::BlockSize(f.n, f.blocks, j));
      if (blk.size() != (r1 - r0) * w)
        return fail("iteration " + std::to_string(i) + ": block " + std::to_string(j) + " has " +
                    std::to_string(blk.size()) + " values, expected " +
                    std::to_string((r1 - r0) * w));
      for (size_t r = 0; r < r1 - r0; ++r)
        std::copy_n(blk.begin() + static_cast<ptrdiff_t>(r * w), w,
                    c.begin() + static_cast<ptrdiff_t>((r0 + r) * f.n + c0));
    }
    if (static_cast<int>(seen.size()) != f.blocks)
      return fail("iteration " + std::to_string(i) + ": " + std::to_string(seen.size()) + " of " +
                  std::to_string(f.blocks) + " column blocks came back");
  }
  double seconds = swell::examples::SecondsSince(start);

  if (!f.output.empty())
    if (auto err = matmul::WriteMatrix(f.output, c, f.n); !err.empty()) return fail(err);
  std::string impl = rt.hadoop() ? "hadoop" : "swell";
  matmul::Report(impl.c_str(), job->workers(), f, f.blocks, load_s, seconds);
  return 0;
}
