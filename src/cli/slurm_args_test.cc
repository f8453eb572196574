#include "cli/slurm_args.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace swell::cli::slurm {
namespace {

TEST(SqueueArgsTest, Options) {
  auto o = ParseSqueueArgs({"-h", "-o", "%i %t", "-u", "alice,1000", "-t", "PD,R"});
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_TRUE(o->no_header);
  EXPECT_EQ(o->format, "%i %t");
  EXPECT_EQ(o->users, (std::vector<std::string>{"alice", "1000"}));
  EXPECT_EQ(*o->states, (std::set<std::string>{"PENDING", "RUNNING"}));
  EXPECT_FALSE(o->all_states);

  auto j = ParseSqueueArgs({"-j", "12,13_4", "--json", "--noheader", "--states=all", "-r"});
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ(j->jobs, (std::vector<JobRef>{{12, std::nullopt}, {13, 4}}));
  EXPECT_TRUE(j->json);
  EXPECT_TRUE(j->no_header);
  EXPECT_TRUE(j->all_states);
  EXPECT_TRUE(j->one_per_task);

  EXPECT_EQ(ParseSqueueArgs({"-j12"})->jobs, (std::vector<JobRef>{{12, std::nullopt}}));
  EXPECT_EQ(ParseSqueueArgs({"--jobs=7"})->jobs, (std::vector<JobRef>{{7, std::nullopt}}));
  EXPECT_EQ(ParseSqueueArgs({"-ho%i"})->format, "%i");
  EXPECT_EQ(ParseSqueueArgs({"--form=%j"})->format, "%j");  // a long option's prefix
  EXPECT_EQ(ParseSqueueArgs({"-w", "n[1-2]"})->nodes, (std::vector<std::string>{"n1", "n2"}));
  EXPECT_TRUE(ParseSqueueArgs({"-l"})->long_format);
  EXPECT_TRUE(ParseSqueueArgs({"--help"})->help);
  EXPECT_TRUE(ParseSqueueArgs({"-V"})->version);
}

TEST(SqueueArgsTest, Errors) {
  auto state = ParseSqueueArgs({"-t", "bogus"});
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.status().message().rfind(
                "squeue: error: Invalid job state specified: bogus\n"
                "squeue: error: Valid job states include: PENDING,RUNNING,SUSPENDED,COMPLETED,",
                0),
            0u)
      << state.status().message();
  auto id = ParseSqueueArgs({"-j", "abc"});
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().message(), "squeue: error: Invalid job id: abc");
  auto opt = ParseSqueueArgs({"--bogus"});
  ASSERT_FALSE(opt.ok());
  EXPECT_EQ(opt.status().message(), "Try \"squeue --help\" for more information");
  EXPECT_FALSE(ParseSqueueArgs({"-o"}).ok());  // missing value
  EXPECT_FALSE(ParseSqueueArgs({"stray"}).ok());
  EXPECT_FALSE(ParseSqueueArgs({"-l", "-o", "%i"}).ok());
  EXPECT_FALSE(ParseSqueueArgs({"-w", "n[1-"}).ok());
}

TEST(SinfoArgsTest, OptionsAndStates) {
  auto o = ParseSinfoArgs({"-N", "-h", "-t", "idle,mix", "-p", "batch"});
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_TRUE(o->node_oriented);
  EXPECT_TRUE(o->no_header);
  EXPECT_EQ(o->partitions, std::vector<std::string>{"batch"});
  NodeState idle{"IDLE", "IDLE", "IDLE", 2}, mix{"MIX", "MIXED", "MIXED", 5},
      down{"DOWN*", "DOWN*", "DOWN+NOT_RESPONDING", 1 | (1u << 11)},
      drng{"DRNG", "DRAINING", "MIXED+DRAIN", 5 | (1u << 9)},
      drained{"DRAIN", "DRAINED", "IDLE+DRAIN", 2 | (1u << 9)};
  EXPECT_TRUE(NodeMatchesStates(idle, o->states));
  EXPECT_TRUE(NodeMatchesStates(mix, o->states));
  EXPECT_FALSE(NodeMatchesStates(down, o->states));
  EXPECT_FALSE(NodeMatchesStates(drained, o->states));  // drained is not idle for -t
  auto d = ParseSinfoArgs({"--states=d"});              // a prefix: "d" is down
  EXPECT_TRUE(NodeMatchesStates(down, d->states));
  EXPECT_FALSE(NodeMatchesStates(idle, d->states));
  auto dr = ParseSinfoArgs({"-t", "drain"});
  EXPECT_TRUE(NodeMatchesStates(drng, dr->states));
  EXPECT_TRUE(NodeMatchesStates(drained, dr->states));
  EXPECT_FALSE(NodeMatchesStates(mix, dr->states));
  auto drg = ParseSinfoArgs({"-t", "draining"});
  EXPECT_TRUE(NodeMatchesStates(drng, drg->states));
  EXPECT_FALSE(NodeMatchesStates(drained, drg->states));
  auto nr = ParseSinfoArgs({"-t", "NOT_RESPONDING"});
  EXPECT_TRUE(NodeMatchesStates(down, nr->states));
  EXPECT_TRUE(ParseSinfoArgs({"-t", "all"})->states.empty());
  EXPECT_EQ(ParseSinfoArgs({"-n", "node[1-2]"})->nodes,
            (std::vector<std::string>{"node1", "node2"}));
  auto bad = ParseSinfoArgs({"-t", "sleepy"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("sinfo: error: Bad state string: \"sleepy\"\n", 0), 0u);
  EXPECT_FALSE(ParseSinfoArgs({"--nope"}).ok());
  EXPECT_FALSE(ParseSinfoArgs({"extra"}).ok());
}

TEST(ScancelArgsTest, IdsAndFilters) {
  auto o = ParseScancelArgs({"12", "13_4", "14_[1-3]", "15,16"});
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->jobs, (std::vector<JobRef>{{12, std::nullopt},
                                          {13, 4},
                                          {14, 1},
                                          {14, 2},
                                          {14, 3},
                                          {15, std::nullopt},
                                          {16, std::nullopt}}));
  EXPECT_FALSE(o->Filtered());
  auto s = ParseScancelArgs({"-s", "USR1", "12"});
  EXPECT_EQ(s->signal, SIGUSR1);
  EXPECT_TRUE(s->Filtered());
  auto n = ParseScancelArgs({"--signal=sigterm", "-n", "job", "-u", "alice", "-t", "pd"});
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->signal, SIGTERM);
  EXPECT_EQ(n->name, "job");
  EXPECT_EQ(n->user, "alice");
  EXPECT_EQ(n->state, "PENDING");
  EXPECT_TRUE(n->jobs.empty());
  EXPECT_TRUE(ParseScancelArgs({"12", "-v"})->verbose == 1);  // options after ids
}

TEST(ScancelArgsTest, Errors) {
  auto none = ParseScancelArgs({});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), "scancel: error: No job identification provided");
  EXPECT_EQ(ParseScancelArgs({"abc"}).status().message(), "scancel: error: Invalid job id abc");
  EXPECT_EQ(ParseScancelArgs({"12_[3-"}).status().message(),
            "scancel: error: Invalid job id 12_[3-");
  EXPECT_EQ(ParseScancelArgs({"-s", "BOGUS", "1"}).status().message(), "Unknown job signal: BOGUS");
  EXPECT_EQ(ParseScancelArgs({"-t", "CD", "1"}).status().message(),
            "Invalid job state specified: CD\n"
            "Valid job states are PENDING, RUNNING, and SUSPENDED");
  EXPECT_FALSE(ParseScancelArgs({"--bogus", "1"}).ok());
}

TEST(ScontrolArgsTest, OptionsThenCommand) {
  auto o = ParseScontrolArgs({"-o", "show", "job", "12"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->one_liner);
  EXPECT_EQ(o->command, (std::vector<std::string>{"show", "job", "12"}));
  EXPECT_FALSE(o->details);
  EXPECT_FALSE(ParseScontrolArgs({"--bogus", "show"}).ok());
}

TEST(ScontrolArgsTest, OptionsAnywhereAsGetoptPermutesThem) {
  // Snakemake's status fallback: scontrol show jobid -dd ID.
  auto o = ParseScontrolArgs({"show", "jobid", "-dd", "12"});
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_TRUE(o->details);
  EXPECT_EQ(o->command, (std::vector<std::string>{"show", "jobid", "12"}));
  auto late = ParseScontrolArgs({"show", "job", "12", "--oneliner", "-Q", "--details"});
  ASSERT_TRUE(late.ok());
  EXPECT_TRUE(late->one_liner && late->quiet && late->details);
  EXPECT_EQ(late->command.size(), 3u);
  auto hide = ParseScontrolArgs({"-d", "--hide", "show", "job"});
  ASSERT_TRUE(hide.ok());
  EXPECT_FALSE(hide->details) << "--hide undoes -d";
  auto bad = ParseScontrolArgs({"show", "node", "-x"});
  ASSERT_FALSE(bad.ok()) << "an unknown option after the command is still an option";
  EXPECT_EQ(bad.status().message(), "Try \"scontrol --help\" for more information");
  auto flags = ParseScontrolArgs({"-o", "setdebugflags", "-Backfill"});
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(flags->command, (std::vector<std::string>{"setdebugflags", "-Backfill"}));
  EXPECT_TRUE(ParseScontrolArgs({"-u", "0", "hold", "12"}).ok());
}

TEST(SignalNumberTest, NamesAndNumbers) {
  EXPECT_EQ(SignalNumber("9"), 9);
  EXPECT_EQ(SignalNumber("KILL"), SIGKILL);
  EXPECT_EQ(SignalNumber("sigusr2"), SIGUSR2);
  EXPECT_EQ(SignalNumber("SIGCONT"), SIGCONT);
  for (const char* bad : {"", "0", "65", "USR3", "9x", "-9", "SIG"})
    EXPECT_FALSE(SignalNumber(bad)) << bad;
}

}  // namespace
}  // namespace swell::cli::slurm
