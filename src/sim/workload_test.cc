#include "sim/workload.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace swell::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

int64_t SubmitS(const SimJob& j) { return ToMillis(j.submit) / 1000; }

std::vector<int64_t> Ids(const std::vector<SimJob>& jobs) {
  std::vector<int64_t> ids;
  for (const auto& j : jobs) ids.push_back(j.id);
  return ids;
}

void ExpectSameJobs(const std::vector<SimJob>& a, const std::vector<SimJob>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id) << i;
    EXPECT_EQ(a[i].submit, b[i].submit) << i;
    EXPECT_EQ(a[i].run, b[i].run) << i;
    EXPECT_EQ(a[i].need.cpus, b[i].need.cpus) << i;
    EXPECT_EQ(a[i].need.memory_mb, b[i].need.memory_mb) << i;
  }
}

// Fields: job submit wait run alloc avgcpu usedmem reqprocs reqtime reqmem status user group
// exe queue partition preceding think.
constexpr char kTrace[] =
    "; Version: 2.2\n"
    "; Computer: a test machine\n"
    ";   MaxProcs: 64\n"
    "\n"
    "  1  100  5   50   4 -1 2048  4 100 1024 1 1 1 1 1 1 -1 -1\n"    // 4 cpus, 4 MB
    "  2   90  0  200   2 -1   -1 -1 300   -1 0 2 1 1 1 1 -1 -1\n"    // failed; allocated cpus
    "  3  120  0    0   1 -1   -1  1 100   -1 1 1 1 1 1 1 -1 -1\n"    // run 0: dropped
    "  4  130  0   30   0 -1   -1 -1 100   -1 1 1 1 1 1 1 -1 -1\n"    // no cpus: dropped
    "  5  150  0 60.5  16 -1  512 20 100   -1 1 1 1 1 1 1 -1 -1\r\n"  // used memory; CRLF
    "  6   95  0   10   3 -1   -1  3 100 1500 5 1 1 1 1 1 -1 -1\n"    // cancelled; 4.39 -> 5 MB
    "  7  140  0   -1   1 -1   -1  1 100   -1 1 1 1 1 1 1 -1 -1\n"    // run unknown: dropped
    "  8  100  0    5   1 -1   -1  1 100   -1 1 1 1 1 1 1 -1 -1\n";   // ties job 1, after it

TEST(ParseSwfTest, MapsFieldsAndSortsBySubmit) {
  auto r = ParseSwf(kTrace, "t.swf", {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& j = *r;
  // Sorted by submit (90, 95, 100, 100, 150), the tie in file order, relative to 90 s.
  ASSERT_EQ(Ids(j), (std::vector<int64_t>{2, 6, 1, 8, 5}));
  EXPECT_EQ(ToMillis(j[0].submit), 0);
  EXPECT_EQ(SubmitS(j[1]), 5);
  EXPECT_EQ(SubmitS(j[2]), 10);
  EXPECT_EQ(SubmitS(j[3]), 10);
  EXPECT_EQ(SubmitS(j[4]), 60);
  // Job 2: allocated processors stand in for the unknown request; no memory known.
  EXPECT_EQ(j[0].run, seconds(200));
  EXPECT_EQ(j[0].need.cpus, 2);
  EXPECT_EQ(j[0].need.memory_mb, 0);
  // Job 6: requested memory 1500 KB x 3 cpus = 4500 KB, rounded up to 5 MB.
  EXPECT_EQ(j[1].need.cpus, 3);
  EXPECT_EQ(j[1].need.memory_mb, 5);
  // Job 1: requested processors (4) win over allocated; requested memory over used.
  EXPECT_EQ(j[2].run, seconds(50));
  EXPECT_EQ(j[2].need.cpus, 4);
  EXPECT_EQ(j[2].need.memory_mb, 4);
  // Job 5: used memory 512 KB x 20 cpus = 10 MB; fractional run time kept.
  EXPECT_EQ(j[4].run, milliseconds(60500));
  EXPECT_EQ(j[4].need.cpus, 20);
  EXPECT_EQ(j[4].need.memory_mb, 10);
  for (const auto& x : j) EXPECT_EQ(x.need.gpus, 0);
}

TEST(ParseSwfTest, SkipsFailedAndCancelledAndRebasesTime) {
  SwfOptions o;
  o.skip_failed = true;
  auto r = ParseSwf(kTrace, "t.swf", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(Ids(*r), (std::vector<int64_t>{1, 8, 5}));
  // The earliest kept job (100 s) is the new origin.
  EXPECT_EQ(ToMillis((*r)[0].submit), 0);
  EXPECT_EQ(ToMillis((*r)[1].submit), 0);
  EXPECT_EQ(SubmitS((*r)[2]), 50);
}

TEST(ParseSwfTest, SplitsWideJobsIntoNodePieces) {
  SwfOptions o;
  o.cpus_per_node = 8;
  auto r = ParseSwf(kTrace, "t.swf", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(Ids(*r), (std::vector<int64_t>{2000, 6000, 1000, 8000, 5000, 5001, 5002}));
  // Job 5 (20 cpus, 512 KB each) on 8-cpu nodes: 8 + 8 + 4 cpus, 4 + 4 + 2 MB, same times.
  for (size_t i = 4; i < 7; ++i) {
    EXPECT_EQ(SubmitS((*r)[i]), 60);
    EXPECT_EQ((*r)[i].run, milliseconds(60500));
  }
  EXPECT_EQ((*r)[4].need.cpus, 8);
  EXPECT_EQ((*r)[5].need.cpus, 8);
  EXPECT_EQ((*r)[6].need.cpus, 4);
  EXPECT_EQ((*r)[4].need.memory_mb, 4);
  EXPECT_EQ((*r)[6].need.memory_mb, 2);
  EXPECT_EQ((*r)[2].need.cpus, 4);  // fits one node: one piece
}

TEST(ParseSwfTest, TiesKeepFileOrderInLargeTraces) {
  // Enough jobs that an unstable sort would reorder ties: submit times cycle 30, 20, 10.
  std::string text;
  for (int i = 1; i <= 300; ++i)
    text += std::to_string(i) + " " + std::to_string(10 * (3 - i % 3)) +
            " 0 5 1 -1 -1 1 -1 -1 1 1 1 1 1 1 -1 -1\n";
  auto r = ParseSwf(text, "ties.swf", {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 300u);
  for (size_t i = 1; i < r->size(); ++i) {
    const SimJob &a = (*r)[i - 1], &b = (*r)[i];
    ASSERT_LE(a.submit, b.submit) << i;
    if (a.submit == b.submit) {
      ASSERT_LT(a.id, b.id) << i;
    }
  }
}

TEST(ParseSwfTest, StrideGrowsWithThePieceCount) {
  SwfOptions o;
  o.cpus_per_node = 1;
  auto r = ParseSwf("7 0 0 10 1500 -1 -1 1500 -1 -1 1 1 1 1 1 1 -1 -1\n", "w.swf", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1500u);
  EXPECT_EQ(r->front().id, 70000);
  EXPECT_EQ(r->back().id, 71499);
  std::vector<int64_t> all = Ids(*r);
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), 1500u);
}

// One line could ask for 75 million processors (fuzz/swf_fuzzer): split on 4-cpu nodes that
// was 19 million jobs from 60 bytes. Bounded per job and per trace, with the line named.
TEST(ParseSwfTest, AJobTooWideToSplitIsAnError) {
  SwfOptions o;
  o.cpus_per_node = 4;
  auto r = ParseSwf("1 0 10 3600 474 -1 4 75555543 0 -1 4 1 1 -1 1 -1 -1 -1\n", "w.swf", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("w.swf:1: 75555543 processors make 18888886 nodes"),
            std::string::npos)
      << r.status().ToString();
  auto fits = ParseSwf("1 0 10 3600 400000 -1 4 400000 0 -1 4 1 1 -1 1 -1 -1 -1\n", "w.swf", o);
  ASSERT_TRUE(fits.ok()) << fits.status().ToString();
  EXPECT_EQ(fits->size(), 100000u);
  // Unsplit, the same line is one job.
  EXPECT_EQ(ParseSwf("1 0 10 3600 474 -1 4 75555543 0 -1 4 1 1 -1 1 -1 -1 -1\n", "w.swf", {})
                ->size(),
            1u);
}

TEST(ParseSwfTest, EmptyAndCommentOnlyTracesGiveNoJobs) {
  for (const char* text : {"", "; only a header\n;\n", "\n\n  \n"}) {
    auto r = ParseSwf(text, "e.swf", {});
    ASSERT_TRUE(r.ok()) << text;
    EXPECT_TRUE(r->empty());
  }
}

TEST(ParseSwfTest, MalformedLinesNameSourceAndLine) {
  struct Case {
    std::string text;
    std::string want;
  };
  const std::string good = "1 0 0 10 1 -1 -1 1 -1 -1 1 1 1 1 1 1 -1 -1\n";
  for (const auto& c : std::vector<Case>{
           {"; h\n" + good + "2 0 0 10 1 -1 -1 1 -1 -1 1 1 1 1 1 1 -1\n",
            "bad.swf:3: expected 18 fields, got 17"},
           {good + good + good + "2 0 0 10 1 -1 -1 1 -1 -1 1 1 1 1 1 1 -1 -1 9\n",
            "bad.swf:4: expected 18 fields, got 19"},
           {"1 0 0 ten 1 -1 -1 1 -1 -1 1 1 1 1 1 1 -1 -1\n",
            "bad.swf:1: field 4 (run time) is not a number: 'ten'"},
           {good + "2 0 0 10 1 -1 -1 1 -1 -1 1 1 1 1 1 1 -1 1x\n",
            "bad.swf:2: field 18 (think time) is not a number: '1x'"},
           {"1 0 0 10 1 -1 -1 2.5 -1 -1 1 1 1 1 1 1 -1 -1\n",
            "bad.swf:1: field 8 (requested processors) is not an integer"},
           {"1 0 0 10 1 -1 -1 1 -1 -1 1 1 1 1 1 1 -1 nan\n", "bad.swf:1: field 18"},
           {"1 0 0 1e300 1 -1 -1 1 -1 -1 1 1 1 1 1 1 -1 -1\n",
            "bad.swf:1: field 4 (run time) is out of range"},
           {"1 0 0 10 1 -1 -1 4294967296 -1 -1 1 1 1 1 1 1 -1 -1\n", "bad.swf:1: 4294967296"},
       }) {
    auto r = ParseSwf(c.text, "bad.swf", {});
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.want), std::string::npos)
        << r.status().message() << " lacks " << c.want;
  }
}

class LoadSwfTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) {
    std::string p = ::testing::TempDir() + "/swell_workload_test_" + name;
    made_.push_back(p);
    return p;
  }
  void TearDown() override {
    for (const auto& p : made_) std::remove(p.c_str());
  }

 private:
  std::vector<std::string> made_;
};

TEST_F(LoadSwfTest, ReadsPlainAndGzipFiles) {
  auto want = ParseSwf(kTrace, "t.swf", {});
  ASSERT_TRUE(want.ok());

  std::string plain = Path("plain.swf");
  std::ofstream(plain) << kTrace;
  auto p = LoadSwf(plain, {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ExpectSameJobs(*p, *want);

  std::string gz = Path("trace.swf.gz");
  gzFile f = gzopen(gz.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzputs(f, kTrace), static_cast<int>(sizeof(kTrace) - 1));
  ASSERT_EQ(gzclose(f), Z_OK);
  std::ifstream in(gz, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GE(bytes.size(), 2u);
  ASSERT_EQ(static_cast<unsigned char>(bytes[0]), 0x1f);  // really compressed
  auto g = LoadSwf(gz, {});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ExpectSameJobs(*g, *want);

  // Errors carry the file's path.
  std::string bad = Path("bad.swf");
  std::ofstream(bad) << "; h\n1 2 3\n";
  auto b = LoadSwf(bad, {});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find(bad + ":2: expected 18 fields"), std::string::npos)
      << b.status().message();
}

TEST_F(LoadSwfTest, MissingAndTruncatedFilesFail) {
  auto m = LoadSwf(Path("missing.swf"), {});
  EXPECT_EQ(m.status().code(), Code::kNotFound);

  // A large trace, compressed, then cut in half: the decompressor must notice.
  std::string text;
  for (int i = 1; i <= 20000; ++i)
    text += std::to_string(i) + " " + std::to_string(i * 7) +
            " 0 100 1 -1 -1 1 -1 -1 1 1 1 1 1 1 -1 -1\n";
  std::string gz = Path("cut.swf.gz");
  gzFile f = gzopen(gz.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())),
            static_cast<int>(text.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
  auto whole = LoadSwf(gz, {});
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->size(), 20000u);

  std::ifstream in(gz, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string cut = Path("cut2.swf.gz");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  auto t = LoadSwf(cut, {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(t.status().message(), cut + ": bad gzip data: unexpected end of file");

  // Only the trailer (CRC and length) missing: every line parses, the check still fails.
  std::string trailer = Path("trailer.swf.gz");
  std::ofstream(trailer, std::ios::binary) << bytes.substr(0, bytes.size() - 4);
  auto u = LoadSwf(trailer, {});
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("bad gzip data"), std::string::npos) << u.status().message();

  auto d = LoadSwf(::testing::TempDir(), {});  // a directory
  EXPECT_EQ(d.status().code(), Code::kInvalidArgument);
}

TEST(SyntheticTest, DeterministicPerSeed) {
  auto a = Synthetic("jobs=1000,seed=3"), b = Synthetic("jobs=1000,seed=3");
  auto c = Synthetic("jobs=1000,seed=4");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  ExpectSameJobs(*a, *b);
  int differ = 0;
  for (size_t i = 0; i < a->size(); ++i) differ += (*a)[i].run != (*c)[i].run;
  EXPECT_GT(differ, 900);
}

TEST(SyntheticTest, DefaultsGiveHourlyBurstsOfShortJobs) {
  auto r = Synthetic("jobs=1050");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1050u);
  std::map<int64_t, int> per_submit;
  Duration lo = seconds(1'000'000), hi = seconds(0);
  for (size_t i = 0; i < r->size(); ++i) {
    const SimJob& j = (*r)[i];
    EXPECT_EQ(j.id, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(j.need.cpus, 1);
    EXPECT_EQ(j.need.memory_mb, 0);
    if (i > 0) {
      EXPECT_LE((*r)[i - 1].submit, j.submit);
    }
    ++per_submit[SubmitS(j)];
    lo = std::min(lo, j.run);
    hi = std::max(hi, j.run);
  }
  // 11 bursts an hour apart: ten of 100 jobs and a last one of 50.
  ASSERT_EQ(per_submit.size(), 11u);
  int64_t k = 0;
  for (const auto& [at, n] : per_submit) {
    EXPECT_EQ(at, k * 3600);
    EXPECT_EQ(n, k == 10 ? 50 : 100);
    ++k;
  }
  EXPECT_GE(lo, seconds(60));
  EXPECT_LT(lo, seconds(70));
  EXPECT_LE(hi, seconds(600));
  EXPECT_GT(hi, seconds(590));
}

TEST(SyntheticTest, KeysShapeTheWorkload) {
  auto r = Synthetic(" jobs = 10 , burst=3,gap_s=60,run_min_s=5,run_max_s=5,cpus=4,seed=9");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 10u);
  std::vector<int64_t> submits;
  for (const auto& j : *r) {
    submits.push_back(SubmitS(j));
    EXPECT_EQ(j.run, seconds(5));
    EXPECT_EQ(j.need.cpus, 4);
  }
  EXPECT_EQ(submits, (std::vector<int64_t>{0, 0, 0, 60, 60, 60, 120, 120, 120, 180}));
  // nodes=M: bursts that need M nodes at once: 4 nodes of 2 cpus hold 8 one-cpu jobs, 4 nodes
  // of 8 cpus hold 8 three-cpu jobs, and a job wider than node_cpus still takes a node.
  for (auto [spec, burst] : std::vector<std::pair<const char*, int64_t>>{
           {"jobs=20,nodes=4", 8}, {"jobs=20,nodes=4,cpus=3,node_cpus=8", 8},
           {"jobs=20,nodes=4,cpus=4", 4}}) {
    auto w = Synthetic(spec);
    ASSERT_TRUE(w.ok()) << spec;
    int64_t first = 0;
    for (const auto& j : *w) first += SubmitS(j) == 0;
    EXPECT_EQ(first, burst) << spec;
  }
  auto none = Synthetic("jobs=0");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(SyntheticTest, RejectsBadSpecs) {
  for (const char* spec :
       {"", "seed=1", "jobs=10,foo=1", "jobs=abc", "jobs=10x", "jobs=", "jobs=-1", "jobs",
        "jobs=10,jobs=5", "jobs=10,run_min_s=50,run_max_s=10", "jobs=10,burst=0", "jobs=10,cpus=0",
        "jobs=10,gap_s=-5", "jobs=10,seed=1.5", "jobs=10,burst=5,nodes=2", "jobs=1,node_cpus=0",
        "jobs=10,,seed=1", "jobs=99999999999999999999",
        "jobs=100000000,burst=1,gap_s=1000000000000"}) {
    auto r = Synthetic(spec);
    ASSERT_FALSE(r.ok()) << spec;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << spec;
  }
  EXPECT_NE(Synthetic("jobs=1,foo=1").status().message().find("unknown key 'foo'"),
            std::string::npos);
  EXPECT_NE(Synthetic("seed=1").status().message().find("jobs=N is required"), std::string::npos);
}

// Its speed is measured by bench (`swell sim --workload synthetic:jobs=1000000,...`), not here.
TEST(SyntheticTest, AMillionJobs) {
  auto r = Synthetic("jobs=1000000,seed=5");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 1'000'000u);
  EXPECT_EQ(SubmitS(r->back()), 9999 * 3600);
}

}  // namespace
TEST(JobsCsvTest, OneLinePerJobRelativeToTheFirstArrival) {
  auto jobs = Synthetic("jobs=3,burst=2,gap_s=100,run_min_s=5,run_max_s=5,cpus=2");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  for (auto& j : *jobs) j.submit += std::chrono::seconds(1000);  // rebased in the output
  EXPECT_EQ(JobsCsv(*jobs),
            "submit_s,run_s,cpus,memory_mb\n"
            "0.000,5.000,2,0\n"
            "0.000,5.000,2,0\n"
            "100.000,5.000,2,0\n");
  EXPECT_EQ(JobsCsv({}), "submit_s,run_s,cpus,memory_mb\n");
}

}  // namespace swell::sim
