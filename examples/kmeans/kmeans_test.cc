// K-means on swell's MapReduce runtime against the serial reference (bit for bit), the hadoop
// mode (bit for bit: the text form round-trips) and OpenMPI (to 1e-12 relative).

#include <gtest/gtest.h>
#include <unistd.h>

#include <signal.h>

#include <cmath>
#include <thread>
#include <sstream>

#include "common/files.h"
#include "common/process.h"
#include "testing/scratch.h"

namespace {

using swell::RunCommand;
using swell::RunOptions;

struct Outcome {
  int code = -1;
  std::string out, err;
};

Outcome Exec(std::vector<std::string> argv, std::vector<std::string> env = {}) {
  RunOptions o;
  o.env = std::move(env);
  o.timeout = std::chrono::seconds(240);
  auto r = RunCommand(argv, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return {};
  return {r->exit_code, r->out, r->err};
}

std::vector<std::string> Data(const std::string& dir) {
  return {"--generate", "30000", "--dims", "3", "--k", "6", "--iterations", "8", "--seed", "7",
          "--partitions", "6", "--data", dir};
}

std::string Read(const std::string& path) {
  auto s = swell::ReadFile(path);
  return s.ok() ? *s : "";
}

std::vector<double> Numbers(const std::string& text) {
  std::istringstream in(text);
  std::vector<double> v;
  double x;
  while (in >> x) v.push_back(x);
  return v;
}

class KMeansTest : public ::testing::Test {
 protected:
  std::vector<std::string> Args(const std::string& bin, const std::string& out,
                                std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {bin};
    a.insert(a.end(), extra.begin(), extra.end());
    auto d = Data(dir_.path() + "/data-" + std::to_string(++n_));
    a.insert(a.end(), d.begin(), d.end());
    a.insert(a.end(), {"--output", dir_.path() + "/" + out});
    return a;
  }
  std::string Centres(const std::string& out) { return Read(dir_.path() + "/" + out); }

  swell::testing::TempDir dir_;
  int n_ = 0;
};

TEST_F(KMeansTest, MapReduceCentresAreBitIdenticalToTheSerialReference) {
  Outcome serial = Exec(Args(KMEANS_SERIAL_BIN, "serial.txt"));
  ASSERT_EQ(serial.code, 0) << serial.err;
  std::string want = Centres("serial.txt");
  ASSERT_EQ(Numbers(want).size(), 6u * 3);
  for (const char* workers : {"1", "2", "3"}) {
    std::string out = std::string("mr-") + workers + ".txt";
    Outcome mr = Exec(Args(KMEANS_BIN, out, {"--local", workers}));
    ASSERT_EQ(mr.code, 0) << mr.err;
    EXPECT_EQ(Centres(out), want) << workers << " workers";
  }
  Outcome hadoop = Exec(Args(KMEANS_BIN, "hadoop.txt", {"--local", "2", "--mr-mode=hadoop"}));
  ASSERT_EQ(hadoop.code, 0) << hadoop.err;
  EXPECT_EQ(Centres("hadoop.txt"), want);
  EXPECT_NE(hadoop.out.find("hadoop mode"), std::string::npos) << hadoop.out;
}

// The test: kill -9 one worker in the middle of a --local 3 run; the run completes with
// the centres of an undisturbed run, bit for bit.
TEST_F(KMeansTest, AKilledWorkerChangesNoBitOfTheCentres) {
  std::vector<std::string> data = {"--generate", "200000", "--dims", "4", "--k", "8",
                                   "--iterations", "40", "--seed", "3", "--partitions", "6"};
  auto args = [&](const std::string& out) {
    std::vector<std::string> a = {KMEANS_BIN, "--local", "3", "--stats"};
    a.insert(a.end(), data.begin(), data.end());
    a.insert(a.end(), {"--data", dir_.path() + "/data-" + out, "--output", dir_.path() + "/" + out});
    return a;
  };
  Outcome clean = Exec(args("clean.txt"));
  ASSERT_EQ(clean.code, 0) << clean.err;
  std::string log = dir_.path() + "/run.log";
  auto pid = swell::SpawnDetached(args("killed.txt"), log);
  ASSERT_TRUE(pid.ok());
  // Once iteration 2 is done, one of the three workers (children of the driver) is killed.
  pid_t victim = 0;
  for (int i = 0; i < 3000 && victim == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (Read(log).find("iter 2:") == std::string::npos) continue;
    std::istringstream kids(Read("/proc/" + std::to_string(*pid) + "/task/" +
                                 std::to_string(*pid) + "/children"));
    kids >> victim;
  }
  ASSERT_GT(victim, 0) << Read(log);
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  for (int i = 0; i < 6000 && swell::ProcessAlive(*pid); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_FALSE(swell::ProcessAlive(*pid));
  std::string out = Read(log);
  EXPECT_NE(out.find("is gone"), std::string::npos) << out;  // the kill landed mid-run
  EXPECT_NE(out.find("2 workers): "), std::string::npos) << out;
  EXPECT_EQ(Centres("killed.txt"), Centres("clean.txt"));
  EXPECT_FALSE(Centres("clean.txt").empty());
}

TEST_F(KMeansTest, MpiCentresAgreeToRoundOff) {
  Outcome serial = Exec(Args(KMEANS_SERIAL_BIN, "serial.txt"));
  ASSERT_EQ(serial.code, 0) << serial.err;
  auto args = Args(KMEANS_MPI_BIN, "mpi.txt");
  args.insert(args.begin(), {MPIRUN, "-n", "2", "--oversubscribe", "--mca", "btl", "self,tcp"});
  Outcome mpi = Exec(args, {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
                           "OMPI_MCA_hwloc_base_binding_policy=none"});
  ASSERT_EQ(mpi.code, 0) << mpi.err << mpi.out;
  auto want = Numbers(Centres("serial.txt")), got = Numbers(Centres("mpi.txt"));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_LE(std::fabs(got[i] - want[i]), 1e-12 * std::fabs(want[i])) << i;
}

TEST_F(KMeansTest, StatsAndJsonReportThePhases) {
  Outcome mr = Exec(Args(KMEANS_BIN, "mr.txt", {"--local", "2", "--stats", "--json"}));
  ASSERT_EQ(mr.code, 0) << mr.err;
  EXPECT_NE(mr.err.find("iter 8: load"), std::string::npos) << mr.err;
  EXPECT_NE(mr.out.find("\"impl\": \"swell\""), std::string::npos) << mr.out;
  EXPECT_NE(mr.out.find("\"shuffle_s\""), std::string::npos) << mr.out;
}

TEST_F(KMeansTest, BadInputIsAClearError) {
  Outcome none = Exec({KMEANS_BIN, "--local", "1"});
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("give --generate POINTS or --input FILES"), std::string::npos)
      << none.err;
  std::string bad = dir_.path() + "/bad.bin";
  ASSERT_TRUE(swell::WriteFileAtomic(bad, std::string(20, 'x')).ok());
  Outcome odd = Exec({KMEANS_BIN, "--local", "1", "--input", bad, "--dims", "3"});
  EXPECT_EQ(odd.code, 1);
  EXPECT_NE(odd.err.find("not a whole number of 3-dimensional points"), std::string::npos)
      << odd.err;
  Outcome flag = Exec({KMEANS_BIN, "--k", "0"});
  EXPECT_NE(flag.code, 0);
}

}  // namespace
