#include "common/slurm_refusal.h"

#include <gtest/gtest.h>

namespace swell::slurm_refusal {
namespace {

TEST(SlurmRefusalTest, RoundTripsAndPrintsSlurmsWordsWithoutTheExplanation) {
  Refusal r{{kMemoryLine}, kNodeConfig, "needs 246000 MB of memory on one node"};
  std::string m = Encode(r);
  EXPECT_EQ(m,
            "Memory specification can not be satisfied\nRequested node configuration is not "
            "available (needs 246000 MB of memory on one node)");
  Refusal back = Decode(m);
  EXPECT_EQ(back.before, r.before);
  EXPECT_EQ(back.reason, r.reason);
  EXPECT_EQ(back.detail, r.detail);
  EXPECT_EQ(SlurmLines(back, "Batch job submission failed: "),
            (std::vector<std::string>{
                "Memory specification can not be satisfied",
                "Batch job submission failed: Requested node configuration is not available"}));
}

TEST(SlurmRefusalTest, AGresRefusalStandsAloneAndOtherMessagesAreAllReason) {
  EXPECT_EQ(SlurmLines(Decode(Encode({{}, kInvalidGres, "no node has gpus"})), "X: "),
            std::vector<std::string>{"Invalid generic resource (gres) specification"});
  Refusal plain = Decode("Invalid partition name specified");
  EXPECT_TRUE(plain.before.empty());
  EXPECT_EQ(plain.reason, "Invalid partition name specified");
  EXPECT_EQ(Decode("the job needs (something)").reason, "the job needs (something)")
      << "only Slurm's reasons have an explanation split off";
}

}  // namespace
}  // namespace swell::slurm_refusal
