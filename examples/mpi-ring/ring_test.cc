// The ring under plain mpirun: one line per hop, in hop order, with the right numbers.

#include <gtest/gtest.h>

#include "common/process.h"

namespace {

TEST(RingTest, OneLinePerHopInOrder) {
  swell::RunOptions o;
  o.env = {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
           // OpenMPI itself leaks at exit; the sanitizer builds must not fail on that.
           "ASAN_OPTIONS=detect_leaks=0",
           "OMPI_MCA_hwloc_base_binding_policy=none"};
  o.timeout = std::chrono::seconds(120);
  auto r = swell::RunCommand({MPIRUN, "-n", "5", "--oversubscribe", RING_BIN, "100"}, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->err;
  size_t at = 0;
  for (int hop = 1; hop <= 5; ++hop) {
    std::string want = "hop " + std::to_string(hop) + ": rank " + std::to_string(hop % 5) +
                       " on ";
    size_t found = r->out.find(want, at);
    ASSERT_NE(found, std::string::npos) << want << "\n" << r->out;
    std::string tail = " got token " + std::to_string(hop) + " from rank " +
                       std::to_string(hop - 1) + "\n";
    EXPECT_NE(r->out.find(tail, found), std::string::npos) << r->out;
    at = found + 1;
  }
  EXPECT_NE(r->out.find("ring of 5 ranks: 500 messages, "), std::string::npos) << r->out;
}

TEST(RingTest, OneRankIsAnError) {
  swell::RunOptions o;
  o.env = {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
           // OpenMPI itself leaks at exit; the sanitizer builds must not fail on that.
           "ASAN_OPTIONS=detect_leaks=0"};
  auto r = swell::RunCommand({MPIRUN, "-n", "1", RING_BIN}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->exit_code, 0);
  EXPECT_NE(r->err.find("needs at least 2 ranks"), std::string::npos) << r->err;
}

}  // namespace
