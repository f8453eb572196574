#include "head/job_mail.h"

#include <gtest/gtest.h>

namespace swell::head {
namespace {

state::JobRow Row(pb::JobState st, int exit_code) {
  state::JobRow r;
  r.id = 12;
  r.name = "test";
  r.user = "ann";
  r.state = st;
  r.exit_code = exit_code;
  r.submit_ms = 1'000;
  r.start_ms = 2'000;
  r.end_ms = 7'000;
  return r;
}

pb::JobSpec Spec(const std::string& types, const std::string& user = "") {
  pb::JobSpec s;
  s.set_mail_type(types);
  s.set_mail_user(user);
  return s;
}

TEST(JobMailTest, BeginAndEndInSlurmsWords) {
  auto begin = MailFor("/usr/bin/mail", Row(pb::RUNNING, 0), Spec("BEGIN,END"), MailEvent::kBegin);
  ASSERT_TRUE(begin);
  EXPECT_EQ(begin->argv, (std::vector<std::string>{"/usr/bin/mail", "-s",
                                                   "Slurm Job_id=12 Name=test Began, Queued "
                                                   "time 00:00:01",
                                                   "ann"}));
  auto end = MailFor("/usr/bin/mail", Row(pb::COMPLETED, 0), Spec("BEGIN,END", "b@x.org"),
                     MailEvent::kEnd);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->argv[2], "Slurm Job_id=12 Name=test Ended, Run time 00:00:05, COMPLETED, ExitCode 0");
  EXPECT_EQ(end->argv[3], "b@x.org");
  EXPECT_NE(std::find(end->env.begin(), end->env.end(), "SLURM_JOB_MAIL_TYPE=Ended"),
            end->env.end());
}

TEST(JobMailTest, FailOnlyWhenItFailedAndNothingWithoutAProgram) {
  EXPECT_FALSE(MailFor("m", Row(pb::COMPLETED, 0), Spec("FAIL"), MailEvent::kEnd));
  EXPECT_FALSE(MailFor("m", Row(pb::RUNNING, 0), Spec("FAIL"), MailEvent::kBegin));
  auto failed = MailFor("m", Row(pb::FAILED, 3), Spec("FAIL"), MailEvent::kEnd);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->argv[2], "Slurm Job_id=12 Name=test Failed, Run time 00:00:05, FAILED, ExitCode 3");
  EXPECT_TRUE(MailFor("m", Row(pb::TIMEOUT, 0), Spec("ALL"), MailEvent::kEnd));
  EXPECT_FALSE(MailFor("", Row(pb::FAILED, 3), Spec("ALL"), MailEvent::kEnd));
  EXPECT_FALSE(MailFor("m", Row(pb::FAILED, 3), Spec("NONE"), MailEvent::kEnd));
}

}  // namespace
}  // namespace swell::head
