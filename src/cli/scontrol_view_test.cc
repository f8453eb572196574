#include "cli/scontrol_view.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "cli/slurm_view_testing.h"

namespace swell::cli::slurm {
namespace {

TEST_F(SlurmViewTest, ScontrolShowJob) {
  pb::JobInfo j = Job(1, "hello", pb::RUNNING);
  j.set_start_ms(kNowMs - 65'000);
  j.add_nodes("node1");
  j.set_stdout_path("/home/alice/slurm-1.out");
  j.set_stderr_path("/home/alice/slurm-1.out");
  j.mutable_spec()->set_script_path("/home/alice/job.sh");
  std::string text = ShowJob(j, std::nullopt, kNow);
  EXPECT_EQ(text.rfind("JobId=1 JobName=hello\n   UserId=alice(1000) GroupId=", 0), 0u) << text;
  EXPECT_NE(text.find("\n   JobState=RUNNING Reason=None Dependency=(null)\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\n   RunTime=00:01:05 TimeLimit=UNLIMITED TimeMin=N/A\n"),
            std::string::npos);
  EXPECT_NE(text.find("\n   StartTime=2023-11-14T22:12:15 EndTime=Unknown"), std::string::npos);
  EXPECT_NE(text.find("\n   NodeList=node1\n   BatchHost=node1\n"), std::string::npos);
  EXPECT_NE(text.find("\n   Command=/home/alice/job.sh\n"), std::string::npos);
  EXPECT_NE(text.find("\n   StdOut=/home/alice/slurm-1.out\n   \n\n"), std::string::npos);
  std::string one = ShowJob(j, std::nullopt, kNow, /*one_liner=*/true);
  EXPECT_EQ(std::count(one.begin(), one.end(), '\n'), 1);
  EXPECT_EQ(one.rfind("JobId=1 JobName=hello UserId=alice(1000)", 0), 0u);
}

TEST_F(SlurmViewTest, ScontrolShowArrayJob) {
  pb::JobInfo j = Job(5, "arr", pb::RUNNING);
  for (int i = 1; i <= 4; ++i) {
    j.mutable_spec()->add_array_indices(i);
    auto* t = j.add_tasks();
    t->set_array_index(i);
    t->set_job_id(4 + i);
    t->set_state(i == 1 ? pb::COMPLETED : i == 2 ? pb::RUNNING : pb::PENDING);
    if (i <= 2) t->set_node("node1"), t->set_start_ms(kNowMs - 1000);
  }
  std::string text = ShowJob(j, std::nullopt, kNow);
  EXPECT_NE(text.find("JobId=5 ArrayJobId=5 ArrayTaskId=3-4 JobName=arr"), std::string::npos)
      << text;
  EXPECT_NE(text.find("JobId=5 ArrayJobId=5 ArrayTaskId=1 JobName=arr"), std::string::npos);
  EXPECT_NE(text.find("JobId=6 ArrayJobId=5 ArrayTaskId=2 JobName=arr"), std::string::npos);
  std::string one = ShowJob(j, 2, kNow);
  EXPECT_EQ(one.rfind("JobId=6 ArrayJobId=5 ArrayTaskId=2 JobName=arr", 0), 0u) << one;
  EXPECT_NE(one.find("JobState=RUNNING"), std::string::npos);
  EXPECT_EQ(ShowJob(j, 99, kNow), "");
}

TEST_F(SlurmViewTest, ScontrolShowNode) {
  pb::NodeInfo n = Node("node1", "MIXED", 2);
  n.set_gpus(1);
  std::string text = ShowNode(n);
  EXPECT_EQ(text.rfind("NodeName=node1 ", 0), 0u) << text;
  EXPECT_NE(text.find("\n   CPUAlloc=2 CPUEfctv=8 CPUTot=8 "), std::string::npos) << text;
  EXPECT_NE(text.find("\n   Gres=gpu:1\n"), std::string::npos);
  EXPECT_NE(text.find("\n   RealMemory=4096 "), std::string::npos);
  EXPECT_NE(text.find("\n   State=MIXED "), std::string::npos);
  EXPECT_NE(text.find("\n   Partitions=batch \n"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 2), "\n\n");
}

}  // namespace
}  // namespace swell::cli::slurm
