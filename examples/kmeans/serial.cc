// K-means, serial reference: the same steps as the MapReduce and MPI versions in one process.
// It sums each partition on its own and then adds the partitions in order, which is exactly
// the order of swell's reduce, so the centres match the MapReduce run bit for bit.
//
//   kmeans-serial --generate 1000000 --dims 8 --k 16 --iterations 10 --output centres.txt

#include <chrono>

#include "common.h"

int main(int argc, char** argv) {
  CLI::App app{"K-means, serial reference"};
  kmeans::Flags f;
  kmeans::AddFlags(app, f);
  CLI11_PARSE(app, argc, argv);
  auto fail = [](const std::string& what) { return kmeans::Fail("kmeans-serial", what); };
  std::vector<std::string> files;
  std::vector<double> centres;
  if (auto err = kmeans::Prepare(f, files, centres); !err.empty()) return fail(err);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::vector<double>> parts(files.size());
  for (size_t p = 0; p < files.size(); ++p)
    if (auto err = kmeans::ReadPartition(files[p], f.dims, parts[p]); !err.empty())
      return fail(err);
  auto loaded = std::chrono::steady_clock::now();
  double load_s = std::chrono::duration<double>(loaded - start).count();
  std::vector<double> sums, local;
  int iterations = 0;
  for (int it = 1; it <= f.iterations; ++it) {
    sums.assign(static_cast<size_t>(f.k) * (f.dims + 1), 0.0);
    for (const auto& points : parts) {
      kmeans::Assign(points, centres, f.dims, f.k, local);
      for (size_t i = 0; i < sums.size(); ++i) sums[i] += local[i];
    }
    ++iterations;
    if (kmeans::Update(sums, f.dims, f.k, centres) <= f.threshold) break;
  }
  double iter_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - loaded).count() / iterations;
  if (!f.output.empty())
    if (auto err = kmeans::WriteCentres(f.output, centres, f.dims); !err.empty()) return fail(err);
  std::printf("kmeans (serial): %d iterations, %.4f s per iteration, %.3f s loading\n", iterations,
              iter_s, load_s);
  if (f.json)
    std::printf("{\"impl\": \"serial\", \"iterations\": %d, \"iter_s\": %.6f, \"load_s\": %.6f}\n",
                iterations, iter_s, load_s);
  return 0;
}
