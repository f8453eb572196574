#include "node/pmi1_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>

namespace swell::node {
namespace {

TEST(Pmi1ServerTest, ProcessMappingInBlocksAsHydraWritesIt) {
  EXPECT_EQ(Pmi1Server::ProcessMapping({2, 2}), "(vector,(0,2,2))");
  EXPECT_EQ(Pmi1Server::ProcessMapping({1}), "(vector,(0,1,1))");
  EXPECT_EQ(Pmi1Server::ProcessMapping({2, 2, 1}), "(vector,(0,2,2),(2,1,1))");
}

TEST(Pmi1ServerTest, PutsSurviveTheWireWhateverTheyHold) {
  std::map<std::string, std::string> puts = {
      {"a", ""}, {"k:1", "v=2 3"}, {"bc-0", std::string(1000, 'x')}};
  auto back = Pmi1Server::DecodePuts(Pmi1Server::EncodePuts(puts));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, puts);
  EXPECT_TRUE(Pmi1Server::DecodePuts("").ok());
  for (const char* bad : {"1:a", "x:a1:b", "5:ab", "1:a9:b", ":a0:"})
    EXPECT_FALSE(Pmi1Server::DecodePuts(bad).ok()) << bad;
}

// Two ranks of a step of three (the third on another node), as MPICH's simple PMI talks.
class Pmi1Conversation : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.AddStep({7, "swell_3_0", 3, 2, {2, 1}});
    for (int r = 0; r < 2; ++r) {
      auto fd = server_.Connect(7, r);
      ASSERT_TRUE(fd.ok());
      rank_[r] = *fd;
    }
  }
  void TearDown() override {
    for (int fd : rank_) close(fd);
  }
  // Sends `line` as rank `r` and returns the server's answer ("" when none).
  std::string Ask(int r, const std::string& line) {
    std::string msg = line + "\n";
    EXPECT_EQ(write(rank_[r], msg.data(), msg.size()), static_cast<ssize_t>(msg.size()));
    for (int fd = 0; fd < 1024; ++fd)
      if (server_.Owns(fd)) server_.Handle(fd);
    return Reply(r);
  }
  std::string Reply(int r) {
    char buf[4096];
    ssize_t n = recv(rank_[r], buf, sizeof buf, MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

  Poller poller_;
  Pmi1Server server_{&poller_};
  int rank_[2] = {-1, -1};
};

TEST_F(Pmi1Conversation, InitPutBarrierGet) {
  EXPECT_EQ(Ask(0, "cmd=init pmi_version=1 pmi_subversion=1"),
            "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0\n");
  EXPECT_EQ(Ask(0, "cmd=get_maxes"), "cmd=maxes kvsname_max=256 keylen_max=64 vallen_max=1024 rc=0\n");
  EXPECT_EQ(Ask(1, "cmd=get_my_kvsname"), "cmd=my_kvsname kvsname=swell_3_0 rc=0\n");
  EXPECT_EQ(Ask(1, "cmd=get_universe_size"), "cmd=universe_size size=3 rc=0\n");
  EXPECT_EQ(Ask(0, "cmd=get kvsname=swell_3_0 key=PMI_process_mapping"),
            "cmd=get_result rc=0 msg=success value=(vector,(0,1,2),(1,1,1))\n");
  EXPECT_EQ(Ask(0, "cmd=put kvsname=swell_3_0 key=card0 value=tcp://a"),
            "cmd=put_result rc=0 msg=success\n");
  EXPECT_EQ(Ask(1, "cmd=put kvsname=swell_3_0 key=card1 value=tcp://b"),
            "cmd=put_result rc=0 msg=success\n");
  // The barrier waits for both local ranks, then for the head's answer.
  EXPECT_EQ(Ask(0, "cmd=barrier_in"), "");
  EXPECT_TRUE(server_.Take().empty());
  EXPECT_EQ(Ask(1, "cmd=barrier_in"), "");
  auto requests = server_.Take();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].seq, -1);
  auto part = Pmi1Server::DecodePuts(requests[0].data);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(*part, (std::map<std::string, std::string>{{"card0", "tcp://a"}, {"card1", "tcp://b"}}));
  auto all = *part;
  all["card2"] = "tcp://c";  // the other node's
  server_.FenceDone(7, -1, Pmi1Server::EncodePuts(all), "");
  EXPECT_EQ(Reply(0), "cmd=barrier_out rc=0\n");
  EXPECT_EQ(Reply(1), "cmd=barrier_out rc=0\n");
  EXPECT_EQ(Ask(1, "cmd=get kvsname=swell_3_0 key=card2"),
            "cmd=get_result rc=0 msg=success value=tcp://c\n");
  EXPECT_EQ(Ask(1, "cmd=get kvsname=swell_3_0 key=nope"),
            "cmd=get_result rc=-1 msg=key_nope_not_found\n");
  EXPECT_EQ(Ask(0, "cmd=finalize"), "cmd=finalize_ack rc=0\n");
}

TEST_F(Pmi1Conversation, AFailedBarrierAnswersWithAnErrorAndAbortGoesUp) {
  Ask(0, "cmd=barrier_in");
  Ask(1, "cmd=barrier_in");
  ASSERT_EQ(server_.Take().size(), 1u);
  server_.FenceDone(7, -1, "", "timed out waiting");
  EXPECT_EQ(Reply(0), "cmd=barrier_out rc=-1 msg=timed_out_waiting\n");
  Ask(1, "cmd=abort exitcode=4 message=bad");
  auto requests = server_.Take();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].kind, Pmi1Server::Request::kAbort);
  EXPECT_EQ(requests[0].rank, 1);
  EXPECT_EQ(requests[0].status, 4);
  // A step's end closes its connections: the rank sees its end.
  server_.RemoveStep(7);
  char c;
  EXPECT_EQ(read(rank_[0], &c, 1), 0);
}

}  // namespace
}  // namespace swell::node
