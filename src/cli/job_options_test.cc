#include "cli/job_options.h"

#include <gtest/gtest.h>

namespace swell::cli {
namespace {

const Time kNow = FromMillis(1'700'000'000'000);

// The spec BuildSpec would make of `args` (counts only) with the options applied.
pb::JobSpec Spec(const std::vector<std::string>& args, std::string* error = nullptr) {
  auto o = ParseSubmitArgs(args, kNow);
  EXPECT_TRUE(o.ok()) << o.status().ToString();
  pb::JobSpec spec;
  spec.set_ntasks(o->ntasks.value_or(0));
  spec.set_cpus_per_task(o->cpus_per_task.value_or(1));
  spec.set_min_nodes(o->nodes_min.value_or(1));
  spec.set_gpus(o->gpus.value_or(0));
  spec.set_mem_mb(o->mem_mb.value_or(0));
  Status s = ApplyJobOptions(*o, &spec);
  if (error) *error = s.ok() ? "" : s.message();
  else EXPECT_TRUE(s.ok()) << s.ToString();
  return spec;
}

TEST(ApplyJobOptionsTest, MemoryPerCpuIsPerNodeAsSlurmComputesIt) {
  EXPECT_EQ(Spec({"--mem-per-cpu=2G", "-n", "4"}).mem_mb(), 4 * 2048);
  EXPECT_EQ(Spec({"--mem-per-cpu=1000", "-n", "2", "-c", "3"}).mem_mb(), 6000);
  // 5 tasks on 2 nodes: the busier node has 3.
  EXPECT_EQ(Spec({"--mem-per-cpu=100", "-n", "5", "-N", "2"}).mem_mb(), 300);
  EXPECT_EQ(Spec({"--mem-per-cpu=100", "-n", "5", "-N", "2"}).mem_per_cpu_mb(), 100);
  EXPECT_EQ(Spec({"--mem-per-gpu=4G", "--gpus=2"}).mem_mb(), 8192);
}

TEST(ApplyJobOptionsTest, GpusFromEveryForm) {
  EXPECT_EQ(Spec({"--gpus=3"}).gpus(), 3);
  EXPECT_EQ(Spec({"--gpus-per-node=2"}).gpus(), 2);
  EXPECT_EQ(Spec({"--gpus-per-node=a100:2", "-N", "2"}).gpus(), 4);
  EXPECT_EQ(Spec({"--gres=gpu:v100:2"}).gpus(), 2);
  EXPECT_EQ(Spec({"--gres=gpu:v100:2"}).gpus_per_node(), 2);
  EXPECT_EQ(Spec({"--gpus-per-task=1", "-n", "3"}).gpus(), 3);
  EXPECT_EQ(Spec({"--gpus-per-socket=1", "--sockets-per-node=2"}).gpus(), 2);
  std::string error;
  Spec({"--gpus-per-socket=1"}, &error);
  EXPECT_EQ(error, "refused: Invalid generic resource (gres) specification");
  // --cpus-per-gpu: the cpus of the gpus go to the tasks.
  pb::JobSpec s = Spec({"--gpus=2", "--cpus-per-gpu=4"});
  EXPECT_EQ(s.cpus_per_task(), 8);
  s = Spec({"--gpus-per-task=1", "--cpus-per-gpu=3", "-n", "2"});
  EXPECT_EQ(s.cpus_per_task(), 3);
}

TEST(ApplyJobOptionsTest, RecordedFields) {
  pb::JobSpec s = Spec({"-A", "proj", "-q", "high", "--wckey=w", "-C", "ssd", "-L", "matlab",
                        "--reservation=r", "--mail-type=end,fail", "--mail-user=a@b",
                        "--signal=B:USR1@90", "--open-mode=append", "--time-min=10",
                        "--deadline=now+1hour", "--test-only"});
  EXPECT_EQ(s.account(), "proj");
  EXPECT_EQ(s.qos(), "high");
  EXPECT_EQ(s.wckey(), "w");
  EXPECT_EQ(s.constraint(), "ssd");
  EXPECT_EQ(s.licenses(), "matlab");
  EXPECT_EQ(s.reservation(), "r");
  EXPECT_EQ(s.mail_type(), "END,FAIL");
  EXPECT_EQ(s.mail_user(), "a@b");
  EXPECT_EQ(s.signal(), 10);
  EXPECT_EQ(s.signal_seconds(), 90);
  EXPECT_TRUE(s.signal_batch_only());
  EXPECT_EQ(s.open_mode(), "append");
  EXPECT_EQ(s.time_min_ms(), 600'000);
  EXPECT_EQ(s.deadline_ms(), ToMillis(kNow) + 3'600'000);
  EXPECT_TRUE(s.test_only());
}

}  // namespace
}  // namespace swell::cli
