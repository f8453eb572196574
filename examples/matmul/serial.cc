// Matrix multiplication, serial reference: the naive product of the same seeded A and B, with
// no blocking at all, in i-k-j order (so that it streams through rows instead of striding
// down B's columns). Its output file is byte-identical to the MapReduce program's (common.h
// says why the products are exact).
//
//   matmul-serial --n 1024 --output c.txt --json

#include "common.h"

int main(int argc, char** argv) {
  CLI::App app{"Matrix multiplication, naive serial product"};
  matmul::Flags f;
  matmul::AddFlags(app, f);
  CLI11_PARSE(app, argc, argv);
  auto fail = [](const std::string& what) { return swell::examples::Fail("matmul-serial", what); };
  if (auto err = matmul::Validate(f); !err.empty()) return fail(err);
  std::vector<double> a, b;
  matmul::Generate(f.n, f.seed, a, b);

  auto start = std::chrono::steady_clock::now();
  size_t n = static_cast<size_t>(f.n);
  std::vector<double> c(n * n, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < n; ++k)
      for (size_t j = 0; j < n; ++j) c[i * n + j] += a[i * n + k] * b[k * n + j];
  double seconds = swell::examples::SecondsSince(start);

  if (!f.output.empty())
    if (auto err = matmul::WriteMatrix(f.output, c, f.n); !err.empty()) return fail(err);
  matmul::Report("serial", 1, f, 1, 0, seconds);
  return 0;
}
