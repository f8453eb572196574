#pragma once

// What the tests of the Slurm views (squeue_view_test.cc, sinfo_view_test.cc,
// scontrol_view_test.cc, slurm_fields_test.cc, sacct_view_test.cc) share: a fixed "now", the
// fixture that pins the time zone, and builders of jobs and nodes. Test code only.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <string>

#include "common/clock.h"
#include "rpc/swell.pb.h"

namespace swell::cli::slurm {

inline constexpr int64_t kNowMs = 1'700'000'000'000;  // 2023-11-14T22:13:20 UTC
inline const Time kNow = FromMillis(kNowMs);

// Times print in local time: the fixture pins the time zone to UTC.
class SlurmViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

// A job of alice's (uid 1000) with one task of one cpu on one node, submitted 100 s ago.
inline pb::JobInfo Job(int64_t id, const std::string& name, pb::JobState state) {
  pb::JobInfo j;
  j.set_id(id);
  j.set_name(name);
  j.set_user("alice");
  j.set_uid(1000);
  j.set_state(state);
  j.set_submit_ms(kNowMs - 100'000);
  j.set_task_count(1);
  j.set_priority(1);
  j.mutable_spec()->set_ntasks(1);
  j.mutable_spec()->set_cpus_per_task(1);
  j.mutable_spec()->set_min_nodes(1);
  j.mutable_spec()->set_work_dir("/home/alice");
  return j;
}

// A node "host-NAME" with 8 cpus (`used` of them in use) and 4 GiB.
inline pb::NodeInfo Node(const std::string& name, const std::string& state, int used = 0) {
  pb::NodeInfo n;
  n.set_name(name);
  n.set_hostname("host-" + name);
  n.set_state(state);
  n.set_cpus(8);
  n.set_cpus_used(used);
  n.set_mem_mb(4096);
  return n;
}

}  // namespace swell::cli::slurm
