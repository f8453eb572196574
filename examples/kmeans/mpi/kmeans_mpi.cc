// K-means in OpenMPI, the baseline: each rank reads a block of the partition files once, every
// iteration it sums its points per centre and MPI_Allreduce adds the ranks' sums.
//
//   mpirun -n 2 kmeans-mpi --generate 1000000 --dims 8 --k 16 --iterations 10
//
// Rank 0 generates the data (the others wait at a barrier). The centres agree with the serial
// reference to about 1e-15 relative, not bit for bit: MPI_Allreduce adds the ranks' partial
// sums in an order of its own choosing, (p0 + p1) + (p2 + p3) instead of ((p0 + p1) + p2) + p3.

#include <mpi.h>

#include <chrono>

#include "../common.h"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  CLI::App app{"K-means with MPI_Allreduce"};
  kmeans::Flags f;
  kmeans::AddFlags(app, f);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    MPI_Finalize();
    return rc;
  }
  auto fail = [](const std::string& what) {
    std::fprintf(stderr, "kmeans-mpi: %s\n", what.c_str());
    MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;
  };
  std::vector<std::string> files;
  if (f.generate > 0) {
    if (rank == 0)
      if (auto err = kmeans::Generate(f, files); !err.empty()) return fail(err);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank != 0)
      for (int p = 0; p < f.partitions; ++p) files.push_back(kmeans::PartName(f.data, p, f.text));
  } else if (auto err = kmeans::Inputs(f, files); !err.empty()) {
    return fail(err);
  }
  std::vector<double> centres;
  if (auto err = kmeans::InitialCentres(files[0], f.dims, f.k, centres); !err.empty())
    return fail(err);
  MPI_Barrier(MPI_COMM_WORLD);
  auto start = std::chrono::steady_clock::now();
  // A block of consecutive partitions per rank, as the MapReduce driver assigns them.
  size_t n = files.size();
  size_t begin = n * rank / size, end = n * (rank + 1) / size;
  std::vector<std::vector<double>> parts;
  for (size_t p = begin; p < end; ++p) {
    parts.emplace_back();
    if (auto err = kmeans::ReadPartition(files[p], f.dims, parts.back()); !err.empty())
      return fail(err);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto loaded = std::chrono::steady_clock::now();
  std::vector<double> mine, local, sums(static_cast<size_t>(f.k) * (f.dims + 1));
  int iterations = 0;
  for (int it = 1; it <= f.iterations; ++it) {
    mine.assign(sums.size(), 0.0);
    for (const auto& points : parts) {
      kmeans::Assign(points, centres, f.dims, f.k, local);
      for (size_t i = 0; i < mine.size(); ++i) mine[i] += local[i];
    }
    MPI_Allreduce(mine.data(), sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM,
                  MPI_COMM_WORLD);
    ++iterations;
    if (kmeans::Update(sums, f.dims, f.k, centres) <= f.threshold) break;
  }
  double iter_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - loaded).count() / iterations;
  double load_s = std::chrono::duration<double>(loaded - start).count();
  if (rank == 0) {
    if (!f.output.empty())
      if (auto err = kmeans::WriteCentres(f.output, centres, f.dims); !err.empty())
        return fail(err);
    std::printf("kmeans (mpi, %d ranks): %d iterations, %.4f s per iteration, %.3f s loading\n",
                size, iterations, iter_s, load_s);
    if (f.json)
      std::printf("{\"impl\": \"mpi\", \"ranks\": %d, \"iterations\": %d, \"iter_s\": %.6f, "
                  "\"load_s\": %.6f}\n",
                  size, iterations, iter_s, load_s);
  }
  MPI_Finalize();
  return 0;
}
