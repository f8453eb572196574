// K-means on libswell_mr, as in the CGL-MapReduce paper: each map task keeps its partition of
// the points in memory for the whole run (static data), the centres are broadcast every
// iteration (dynamic data), map assigns points and sums them per centre, reduce adds the
// partitions' sums, and the driver computes the new centres (the combine step).
//
//   kmeans --local 2 --generate 1000000 --dims 8 --k 16 --iterations 10 --output centres.txt
//   kmeans --local 2 --mr-mode=hadoop --generate ... (the file-based ablation)

#include <chrono>

#include "common.h"
#include "swell/mr/mr.h"

using swell::Status;

namespace {

struct KMeans {
  using Static = std::vector<double>;   // this partition's points, dims per point
  using Dynamic = std::vector<double>;  // the centres, k x dims
  using Key = int32_t;                  // a centre
  using Value = std::vector<double>;    // its points' coordinate sums, then their count

  KMeans(int dims, int k) : dims(dims), k(k) {}
  int dims, k;

  Status Load(const std::string& file, Static& points) {
    std::string err = kmeans::ReadPartition(file, dims, points);
    return err.empty() ? Status::Ok() : swell::InvalidArgument(err);
  }

  void Map(const Static& points, const Dynamic& centres, swell::mr::Emitter<Key, Value>& emit) {
    kmeans::Assign(points, centres, dims, k, sums_);
    for (int c = 0; c < k; ++c) {
      auto row = sums_.begin() + static_cast<ptrdiff_t>(c) * (dims + 1);
      emit.Emit(c, Value(row, row + dims + 1));
    }
  }

  void Combine(Value& into, const Value& v) {
    for (size_t i = 0; i < into.size(); ++i) into[i] += v[i];
  }

 private:
  std::vector<double> sums_;
};

}  // namespace

int main(int argc, char** argv) {
  swell::mr::Runtime rt(argc, argv);
  CLI::App app{"K-means on swell's MapReduce runtime"};
  kmeans::Flags f;
  kmeans::AddFlags(app, f);
  CLI11_PARSE(app, argc, argv);
  if (rt.hadoop()) f.text = true;  // Hadoop reads text, as TextInputFormat does
  rt.Register<KMeans>("kmeans", [&] { return KMeans{f.dims, f.k}; });
  if (rt.is_worker()) return rt.Serve();

  auto fail = [](const std::string& what) { return kmeans::Fail("kmeans", what); };
  std::vector<std::string> files;
  std::vector<double> centres;
  if (auto err = kmeans::Prepare(f, files, centres); !err.empty()) return fail(err);

  auto start = std::chrono::steady_clock::now();
  auto job = rt.Open<KMeans>("kmeans", files);
  if (!job.ok()) return fail(job.status().ToString());
  double open_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<double> sums(static_cast<size_t>(f.k) * (f.dims + 1));
  swell::mr::IterationStats phases;  // summed over the iterations
  int iterations = 0;
  double iter_s = 0;
  for (int it = 1; it <= f.iterations; ++it) {
    auto out = job->Iterate(centres);
    if (!out.ok()) return fail(out.status().ToString());
    for (const auto& [c, row] : *out)
      std::copy(row.begin(), row.end(), sums.begin() + static_cast<ptrdiff_t>(c) * (f.dims + 1));
    double moved = kmeans::Update(sums, f.dims, f.k, centres);
    auto s = job->last_stats();
    ++iterations;
    iter_s += s.total_s;
    phases.load_s += s.load_s;
    phases.broadcast_s += s.broadcast_s;
    phases.map_s += s.map_s;
    phases.shuffle_s += s.shuffle_s;
    phases.reduce_s += s.reduce_s;
    phases.combine_s += s.combine_s;
    if (moved <= f.threshold) break;
  }
  double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!f.output.empty())
    if (auto err = kmeans::WriteCentres(f.output, centres, f.dims); !err.empty()) return fail(err);
  std::printf("kmeans (swell mr, %s%s, %d workers): %d iterations, %.4f s per iteration, "
              "%.3f s in all\n",
              rt.launch().c_str(), rt.hadoop() ? ", hadoop mode" : "", job->workers(),
              iterations, iter_s / iterations, total_s);
  if (f.json) {
    auto per = [&](double v) { return v / iterations; };
    std::printf(
        "{\"impl\": \"%s\", \"workers\": %d, \"iterations\": %d, \"iter_s\": %.6f, "
        "\"open_s\": %.6f, \"total_s\": %.6f, \"load_s\": %.6f, \"broadcast_s\": %.6f, "
        "\"map_s\": %.6f, \"shuffle_s\": %.6f, \"reduce_s\": %.6f, \"combine_s\": %.6f}\n",
        rt.hadoop() ? "hadoop" : "swell", job->workers(), iterations, iter_s / iterations, open_s,
        total_s, per(phases.load_s), per(phases.broadcast_s), per(phases.map_s),
        per(phases.shuffle_s), per(phases.reduce_s), per(phases.combine_s));
  }
  return 0;
}
