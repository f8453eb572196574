// K-means on swell's MapReduce runtime against the serial reference (bit for bit), the hadoop
// mode (bit for bit: the text form round-trips) and OpenMPI (to 1e-12 relative).

#include <signal.h>

#include <cmath>
#include <thread>
#include <sstream>

#include "../common/example_test.h"

namespace {

using swell::examples::Exec;
using swell::examples::Outcome;

const std::vector<std::string> kData = {"--generate", "30000", "--dims",       "3",
                                        "--k",        "6",     "--iterations", "8",
                                        "--seed",     "7",     "--partitions", "6"};

// mpirun as root, unbound; OpenMPI itself leaks at exit, which must not fail sanitizer builds.
std::vector<std::string> MpiEnv() {
  return {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
          "OMPI_MCA_hwloc_base_binding_policy=none", "ASAN_OPTIONS=detect_leaks=0"};
}

std::vector<double> Numbers(const std::string& text) {
  std::istringstream in(text);
  std::vector<double> v;
  double x;
  while (in >> x) v.push_back(x);
  return v;
}

class KMeansTest : public swell::examples::ExampleTest {
 protected:
  std::vector<std::string> Args(const std::string& bin, const std::string& out,
                                std::vector<std::string> extra = {}) {
    return ExampleTest::Args(bin, out, extra, kData);
  }
  std::string Centres(const std::string& out) { return swell::examples::ReadText(Path(out)); }
};

TEST_F(KMeansTest, MapReduceCentresAreBitIdenticalToTheSerialReference) {
  Outcome serial = Exec(Args(KMEANS_SERIAL_BIN, "serial.txt"));
  ASSERT_EQ(serial.code, 0) << serial.err;
  std::string want = Centres("serial.txt");
  ASSERT_EQ(Numbers(want).size(), 6u * 3);
  ExpectEveryModeWrites(
      KMEANS_BIN, want, kData,
      {{"--local", "1"}, {"--local", "2"}, {"--local", "3"}, {"--local", "2", "--mr-mode=hadoop"}});
}

// The test: kill -9 one worker in the middle of a --local 3 run; the run completes with
// the centres of an undisturbed run, bit for bit.
TEST_F(KMeansTest, AKilledWorkerChangesNoBitOfTheCentres) {
  std::vector<std::string> data = {"--generate", "200000", "--dims", "4", "--k", "8",
                                   "--iterations", "40", "--seed", "3", "--partitions", "6"};
  auto args = [&](const std::string& out) {
    return ExampleTest::Args(KMEANS_BIN, out, {"--local", "3", "--stats"}, data);
  };
  Outcome clean = Exec(args("clean.txt"));
  ASSERT_EQ(clean.code, 0) << clean.err;
  std::string log = Path("run.log");
  auto pid = swell::SpawnDetached(args("killed.txt"), log);
  ASSERT_TRUE(pid.ok());
  // Once iteration 2 is done, one of the three workers (children of the driver) is killed.
  pid_t victim = 0;
  for (int i = 0; i < 3000 && victim == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (swell::examples::ReadText(log).find("iter 2:") == std::string::npos) continue;
    std::istringstream kids(swell::examples::ReadText("/proc/" + std::to_string(*pid) + "/task/" +
                                 std::to_string(*pid) + "/children"));
    kids >> victim;
  }
  ASSERT_GT(victim, 0) << swell::examples::ReadText(log);
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  for (int i = 0; i < 6000 && swell::ProcessAlive(*pid); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_FALSE(swell::ProcessAlive(*pid));
  std::string out = swell::examples::ReadText(log);
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
  Outcome mpi = Exec(args, MpiEnv());
  ASSERT_EQ(mpi.code, 0) << mpi.err << mpi.out;
  auto want = Numbers(Centres("serial.txt")), got = Numbers(Centres("mpi.txt"));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_LE(std::fabs(got[i] - want[i]), 1e-12 * std::fabs(want[i])) << i;
}

// The same MapReduce kmeans binary under `mpirun -np 2`: rank 0 drives and works, rank 1
// works; the centres are the serial reference's, bit for bit.
TEST_F(KMeansTest, TheMapReduceBinaryRunsUnderMpirun) {
  Outcome serial = Exec(Args(KMEANS_SERIAL_BIN, "serial.txt"));
  ASSERT_EQ(serial.code, 0) << serial.err;
  auto args = Args(KMEANS_BIN, "mr.txt");
  args.insert(args.begin(), {MPIRUN, "-np", "2", "--oversubscribe"});
  auto env = MpiEnv();
  env.push_back("SWELL_MR_RENDEZVOUS=" + Path("rdv"));
  Outcome mr = Exec(args, env);
  ASSERT_EQ(mr.code, 0) << mr.err << mr.out;
  EXPECT_NE(mr.out.find("(swell mr, launcher, 2 workers)"), std::string::npos) << mr.out;
  EXPECT_EQ(Centres("mr.txt"), Centres("serial.txt"));
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
