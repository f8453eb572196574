// Word count on libswell_mr, the classic MapReduce job: one map task per text file emits
// (word, 1) for every word, the map-side combiner adds them up per word before the shuffle,
// reduce adds the files' counts, and the driver writes the counts sorted by word. A plain
// map-reduce job: one iteration, no dynamic data.
//
//   wordcount --local 2 --generate 10000000 --files 8 --data /tmp/words --output counts.txt --json
//   wordcount --local 2 --input a.txt b.txt --output counts.txt
//   wordcount --local 2 --mr-mode=hadoop --generate ... (the file-based ablation)

#include "common.h"
#include "swell/mr/mr.h"

using swell::Status;

namespace {

struct WordCount {
  using Static = std::string;  // one file's text
  using Key = std::string;     // a word
  using Value = int64_t;       // its count

  Status Load(const std::string& file, Static& text) {
    std::string err = swell::examples::ReadAll(file, text);
    return err.empty() ? Status::Ok() : swell::InvalidArgument(err);
  }

  void Map(const Static& text, const swell::mr::NoData&, swell::mr::Emitter<Key, Value>& emit) {
    wordcount::ForEachWord(text, [&](std::string_view w) {
      word_.assign(w);  // reused: no allocation per word
      emit.Emit(word_, 1);
    });
  }

  // The combiner (map side: a file's repeated words travel once) and the reduce.
  void Combine(Value& into, const Value& v) { into += v; }

 private:
  std::string word_;
};

}  // namespace

int main(int argc, char** argv) {
  swell::mr::Runtime rt(argc, argv);
  CLI::App app{"Word count on swell's MapReduce runtime"};
  wordcount::Flags f;
  wordcount::AddFlags(app, f);
  CLI11_PARSE(app, argc, argv);
  rt.Register<WordCount>("wordcount");
  if (rt.is_worker()) return rt.Serve();

  auto fail = [](const std::string& what) { return swell::examples::Fail("wordcount", what); };
  std::vector<std::string> files;
  if (auto err = wordcount::Inputs(f, files); !err.empty()) return fail(err);

  auto start = std::chrono::steady_clock::now();
  auto job = rt.Open<WordCount>("wordcount", files);
  if (!job.ok()) return fail(job.status().ToString());
  auto out = job->Iterate();
  if (!out.ok()) return fail(out.status().ToString());
  double seconds = swell::examples::SecondsSince(start);
  // The reduce output is sorted by key already: what the output file wants.
  const wordcount::Counts& counts = *out;

  if (!f.data.output.empty())
    if (auto err = wordcount::WriteCounts(f.data.output, counts); !err.empty()) return fail(err);
  std::string impl = rt.hadoop() ? "hadoop" : "swell";
  wordcount::Report(impl.c_str(), job->workers(), f, counts, job->last_stats().load_s, seconds);
  return 0;
}
