// `swell mr mapfiles` as users run it: one command per file on N workers, retries, errors.

#include <gtest/gtest.h>

#include <functional>

#include "common/files.h"
#include "common/process.h"
#include "testing/scratch.h"

namespace swell {
namespace {

struct Outcome {
  int code = -1;
  std::string out, err;
};

Outcome Swell(std::vector<std::string> args) {
  args.insert(args.begin(), SWELL_BIN);
  RunOptions o;
  o.timeout = std::chrono::seconds(120);
  auto r = RunCommand(args, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? Outcome{r->exit_code, r->out, r->err} : Outcome{};
}

class MapFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    in_ = dir_.path() + "/in";
    out_ = dir_.path() + "/out";
    ASSERT_TRUE(MakeDirs(in_, 0755).ok());
    for (int i = 0; i < 7; ++i) {
      std::string text;
      for (int j = 0; j <= i * 100; ++j) text += std::to_string(j) + "\n";
      ASSERT_TRUE(WriteFileAtomic(in_ + "/f" + std::to_string(i), text).ok());
    }
  }
  testing::TempDir dir_;
  std::string in_, out_;
};

TEST_F(MapFilesTest, RunsTheCommandOncePerFile) {
  Outcome r = Swell({"mr", "mapfiles", "--cmd", "sort -rn {in} > {out}.sorted", "--in", in_,
                     "--out", out_, "-n", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("7 files, 7 ok, 0 failed"), std::string::npos) << r.out;
  for (int i = 0; i < 7; ++i) {
    auto sorted = ReadFile(out_ + "/f" + std::to_string(i) + ".sorted");
    ASSERT_TRUE(sorted.ok()) << i;
    EXPECT_EQ(sorted->substr(0, sorted->find('\n')), std::to_string(i * 100));
  }
}

TEST_F(MapFilesTest, AFailingCommandIsRetriedThenReported) {
  // Fails the first time per file (no marker yet), then succeeds.
  std::string cmd = "if [ -e {out}.tried ]; then cp {in} {out}; else touch {out}.tried; exit 3; fi";
  Outcome r = Swell({"mr", "mapfiles", "--cmd", cmd, "--in", in_, "--out", out_, "-n", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("7 ok, 0 failed, 7 retried"), std::string::npos) << r.out;
  EXPECT_TRUE(ReadFile(out_ + "/f6").ok());
  Outcome bad = Swell({"mr", "mapfiles", "--cmd", "echo broken {name} >&2; exit 4; cat {in}", "--in", in_,
                       "--out", out_, "-n", "2", "--retries", "1"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("f3 failed (exit 4 after 2 attempts): broken f3"), std::string::npos)
      << bad.err;
}

// The launch: the same kmeans binary under `swell run -n 2` on a cluster (srun's
// semantics: two processes with SLURM_PROCID 0 and 1, which find each other).
TEST(SwellRunTest, KMeansRunsAsTwoRanksOfOneJob) {
  testing::TempDir dir;
  RunOptions o;
  o.env = {"SWELL_HOME=" + dir.path() + "/home", "SWELL_MR_RENDEZVOUS=" + dir.path() + "/rdv"};
  o.timeout = std::chrono::seconds(120);
  auto swell = [&](std::vector<std::string> args) {
    args.insert(args.begin(), SWELL_BIN);
    auto r = RunCommand(args, o);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandResult{};
  };
  struct Down {  // the cluster goes whatever the test did
    std::function<void()> f;
    ~Down() { f(); }
  } down{[&] { swell({"down"}); }};
  ASSERT_EQ(swell({"up", "--nodes", "2"}).exit_code, 0);
  std::vector<std::string> data = {"--dims", "3", "--k", "5", "--iterations", "6"};
  auto gen = RunCommand({KMEANS_SERIAL_BIN, "--generate", "20000", "--data", dir.path() + "/d",
                         "--partitions", "4", "--output", dir.path() + "/serial.txt",
                         "--dims", "3", "--k", "5", "--iterations", "6"},
                        o);
  ASSERT_TRUE(gen.ok() && gen->exit_code == 0);
  std::vector<std::string> run = {"run", "-n", "2", "--", KMEANS_BIN, "--output",
                                  dir.path() + "/run.txt", "--input"};
  for (int p = 0; p < 4; ++p) run.push_back(dir.path() + "/d/part-000" + std::to_string(p) + ".bin");
  run.insert(run.end(), data.begin(), data.end());
  auto r = swell(run);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(swell mr, launcher, 2 workers)"), std::string::npos) << r.out;
  auto got = ReadFile(dir.path() + "/run.txt"), want = ReadFile(dir.path() + "/serial.txt");
  ASSERT_TRUE(got.ok() && want.ok());
  EXPECT_EQ(*got, *want);  // bit for bit
  auto ranks = swell({"run", "-n", "2", "--", "sh", "-c", "echo rank $SLURM_PROCID"});
  EXPECT_EQ(ranks.exit_code, 0);
  EXPECT_NE(ranks.out.find("rank 0\n"), std::string::npos) << ranks.out;
  EXPECT_NE(ranks.out.find("rank 1\n"), std::string::npos) << ranks.out;
}

TEST(MapFilesExampleTest, SortsAndCompressesADirectory) {
  RunOptions o;
  o.env = {std::string("SWELL_BIN=") + SWELL_BIN};
  o.timeout = std::chrono::seconds(120);
  auto r = RunCommand({SWELL_SOURCE_DIR "/examples/mapfiles/run.sh", "2"}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_NE(r->out.find("all 16 files sorted and compressed"), std::string::npos) << r->out;
}

TEST_F(MapFilesTest, BadInputIsAClearError) {
  Outcome r = Swell({"mr", "mapfiles", "--cmd", "true", "--in", in_, "--out", out_});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--cmd must use {in}"), std::string::npos) << r.err;
  r = Swell({"mr", "mapfiles", "--cmd", "cat {in}", "--in", dir_.path() + "/none", "--out", out_});
  EXPECT_EQ(r.code, 2);
  r = Swell({"mr", "reduce"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("usage: swell mr mapfiles"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace swell
