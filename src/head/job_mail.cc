#include "head/job_mail.h"

#include <fmt/format.h>

#include "common/log.h"
#include "common/process.h"
#include "common/slurm_format.h"
#include "common/text.h"

namespace swell::head {

namespace {

std::string Clock(int64_t ms) { return FormatDuration(std::chrono::milliseconds(std::max<int64_t>(0, ms))); }

bool Asks(const std::vector<std::string>& types, const char* type) {
  for (const auto& t : types)
    if (t == type || (t == "ALL" && std::string_view(type) != "ARRAY_TASKS")) return true;
  return false;
}

}  // namespace

std::optional<Mail> MailFor(const std::string& prog, const state::JobRow& row,
                            const pb::JobSpec& spec, MailEvent event) {
  if (prog.empty()) return std::nullopt;
  const std::vector<std::string> types = SplitNonEmpty(spec.mail_type(), ',');
  const auto state = static_cast<pb::JobState>(row.state);
  const bool failed = state != pb::COMPLETED;
  // As slurmctld: BEGIN at the start; at the end, END always, FAIL when it did not complete,
  // one mail either way, "Failed" when it did not complete.
  std::string what, times;
  std::vector<std::string> env;
  if (event == MailEvent::kBegin) {
    if (!Asks(types, "BEGIN")) return std::nullopt;
    what = "Began";
    times = "Queued time " + Clock(row.start_ms - row.submit_ms);
    env.push_back("SLURM_JOB_QUEUED_TIME=" + Clock(row.start_ms - row.submit_ms));
  } else {
    if (!Asks(types, "END") && !(failed && Asks(types, "FAIL"))) return std::nullopt;
    what = failed ? "Failed" : "Ended";
    const std::string run = Clock(row.start_ms ? row.end_ms - row.start_ms : 0);
    times = fmt::format("Run time {}, {}, ExitCode {}", run, pb::JobState_Name(state),
                        row.exit_code);
    env.push_back("SLURM_JOB_RUN_TIME=" + run);
    env.push_back("SLURM_JOB_EXIT_CODE_MAX=" + std::to_string(row.exit_code));
  }
  const std::string id = std::to_string(row.id);
  const std::string subject =
      spec.array_indices_size() > 0
          ? fmt::format("Slurm Array Summary Job_id={}_* ({}) Name={} {}, {}", id, id, row.name,
                        what, times)
          : fmt::format("Slurm Job_id={} Name={} {}, {}", id, row.name, what, times);
  const std::string user = spec.mail_user().empty() ? row.user : spec.mail_user();
  Mail m;
  m.argv = {prog, "-s", subject, user};
  m.env = {"SLURM_JOB_ID=" + id,           "SLURM_JOB_USER=" + row.user,
           "SLURM_JOB_MAIL_TYPE=" + what,  "SLURM_JOB_NAME=" + row.name,
           "SLURM_JOB_STATE=" + std::string(pb::JobState_Name(state))};
  m.env.insert(m.env.end(), env.begin(), env.end());
  return m;
}

MailSender::MailSender() : thread_([this] { Run(); }) {}

MailSender::~MailSender() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    if (!queue_.empty())
      LogWarning("head: %zu job mails not sent (the head stops)", queue_.size());
    queue_.clear();
  }
  cv_.notify_one();
  thread_.join();
}

void MailSender::Send(Mail mail) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(mail));
  }
  cv_.notify_one();
}

void MailSender::Run() {
  for (;;) {
    Mail m;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      m = std::move(queue_.front());
      queue_.pop_front();
    }
    RunOptions o;
    o.env = m.env;
    o.timeout = std::chrono::seconds(60);
    auto r = RunCommand(m.argv, o);
    if (!r.ok())
      LogWarning("head: mail program %s: %s", m.argv[0].c_str(), r.status().ToString().c_str());
    else if (r->exit_code != 0)
      LogWarning("head: mail program %s exited %d: %s", m.argv[0].c_str(), r->exit_code,
                 TailLines(r->err, 3).c_str());
  }
}

}  // namespace swell::head
