#pragma once

// --mail-type: the mails Slurm's controller sends through its MailProg, sent through the cluster
// file's `mail_prog` (e.g. /usr/bin/mail) as `mail_prog -s SUBJECT USER`, with an empty body and
// Slurm's SLURM_JOB_* variables in its environment. Subjects as Slurm 22.05 words them:
//
//   Slurm Job_id=12 Name=test Began, Queued time 00:00:01
//   Slurm Job_id=12 Name=test Ended, Run time 00:00:05, COMPLETED, ExitCode 0
//   Slurm Job_id=12 Name=test Failed, Run time 00:00:01, FAILED, ExitCode 3
//
// An array job mails once for the whole array ("Slurm Array Summary Job_id=12_* (12) ..."), not
// per task (ARRAY_TASKS is recorded, not honoured). No mail program configured: the head logs
// the request at submit and sends nothing. MailFor is pure; MailSender runs the program off the
// head's loop, one mail at a time, each for at most a minute.

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "head/state/store.h"
#include "rpc/swell.pb.h"

namespace swell::head {

struct Mail {
  std::vector<std::string> argv;  // mail_prog -s SUBJECT USER
  std::vector<std::string> env;   // "SLURM_JOB_ID=12", ...
};

enum class MailEvent { kBegin, kEnd };

// The mail `spec`'s --mail-type asks for when the job (`row`, its state and times as of the
// event) began or ended; nullopt when it asks for none then, or `prog` is empty.
std::optional<Mail> MailFor(const std::string& prog, const state::JobRow& row,
                            const pb::JobSpec& spec, MailEvent event);

class MailSender {
 public:
  MailSender();
  ~MailSender();  // waits for the mail being sent; drops (and logs) the ones not yet sent
  MailSender(const MailSender&) = delete;
  MailSender& operator=(const MailSender&) = delete;

  void Send(Mail mail);

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Mail> queue_;  // GUARDED_BY(mu_)
  bool stop_ = false;       // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace swell::head
