// scontrol's front end: its keywords as Slurm's scontrol reads them (abbreviated down to its
// minimum lengths, options anywhere), the RPCs they make and Slurm's messages and exit codes.
// The records it prints come from scontrol_view.h, update's words are parsed by
// scontrol_update.h.

#include "cli/scontrol_cmd.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "cli/cli.h"
#include "cli/job_state.h"
#include "cli/scontrol_update.h"
#include "cli/scontrol_view.h"
#include "cli/slurm_args.h"
#include "cli/slurm_fields.h"
#include "common/hostlist.h"
#include "common/text.h"
#include "head/config/config.h"

namespace swell::cli {
namespace {

using namespace slurm;  // NOLINT: this file is a Slurm front end

constexpr char kUsage[] =
    "Usage: scontrol [-a] [-d] [-o] [-Q] [-V] COMMAND\n"
    "  show job|node|partition|step|config|hostnames|hostlist [ID]\n"
    "  hold|release|requeue|requeuehold|suspend|resume JOBID[,JOBID...]\n"
    "  update JobId=ID KEY=VALUE...\n";
constexpr char kHelp[] =
    "Usage: scontrol [OPTIONS] COMMAND\n"
    "  -a, --all                  accepted (no partition is hidden)\n"
    "  -d, --details              more details (show job)\n"
    "  -o, --oneliner             one line per record\n"
    "  -Q, --quiet                no messages for jobs or nodes not found\n"
    "  -V, --version  --help  --usage\n"
    "Commands:\n"
    "  show job [ID[_INDEX]]      jobs (all active ones without ID); jobid is the same\n"
    "  show node [NAME|HOSTLIST]  nodes\n"
    "  show partition [NAME]      partitions\n"
    "  show step [ID[.STEP]]      running job steps\n"
    "  show config                the configuration, in Slurm's words\n"
    "  show hostnames [HOSTLIST]  one host per line ($SLURM_JOB_NODELIST by default)\n"
    "  show hostlist NAMES        compress names into a host list\n"
    "  hold|release JOBID...      keep a pending job from starting, or let it start\n"
    "  requeue|requeuehold JOBID... a running or finished batch job runs again (held)\n"
    "  update JobId=ID KEY=VALUE... TimeLimit, Partition, NumCPUs, Dependency, Name, Nice,\n"
    "                             Comment, StartTime, Requeue\n"
    "  version                    the version\n"
    "Supported subset and differences from Slurm: docs/slurm.md\n";

// Whether `word` abbreviates `keyword` with at least `min` letters (scontrol's rule).
bool Abbrev(const std::string& word, const char* keyword, size_t min) {
  std::string k = keyword;
  if (word.size() < min || word.size() > k.size()) return false;
  return EqualsIgnoreCase(word, k.substr(0, word.size()));
}

// Slurm's xstrncasecmp(word, keyword, n) == 0 for a fixed n: the first n letters match.
bool Prefix(const std::string& word, const char* keyword, size_t n) {
  std::string k = keyword;
  if (word.size() < n) return Abbrev(word, keyword, word.size()) && word.size() == k.size();
  return EqualsIgnoreCase(word.substr(0, n), k.substr(0, n));
}

int ShowJobs(const std::optional<std::string>& id, const ScontrolOptions& o) {
  auto client = Connect(Home());
  Time now = SystemClock().Now();
  if (id) {
    if (id->empty() || id->find_first_not_of("0123456789_+") != std::string::npos) {
      if (!o.quiet) std::fprintf(stderr, "scontrol_print_job error: Invalid job id specified\n");
      return 1;
    }
    auto ref = ParseJobRef(*id);
    pb::InfoRequest req;
    req.mutable_job()->set_job_id(ref.ok() ? ref->id : 0);
    auto r = ref.ok() ? client->Info(req) : Result<pb::InfoReply>(NotFound(""));
    if (!r.ok()) {
      if (r.status().code() != Code::kNotFound) {
        std::fprintf(stderr, "slurm_load_jobs error: %s\n", ErrorText(r.status()).c_str());
        return 1;
      }
      if (!o.quiet) std::fprintf(stderr, "slurm_load_jobs error: Invalid job id specified\n");
      return 1;
    }
    const auto& j = r->job();
    std::optional<int64_t> index = ref->index;
    if (j.id() != ref->id && j.tasks_size() == 1) index = j.tasks(0).array_index();
    std::string text = ShowJob(j, index, now, o.one_liner, o.details);
    if (text.empty()) {
      if (!o.quiet) std::printf("Job %s not found\n", id->c_str());
      return 1;
    }
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  pb::QueueRequest req;
  req.set_all(true);
  auto q = client->Queue(req);
  if (!q.ok()) {
    std::fprintf(stderr, "slurm_load_jobs error: %s\n", ErrorText(q.status()).c_str());
    return 1;
  }
  int printed = 0;
  for (const auto& brief : q->jobs()) {
    bool done = brief.state() != pb::PENDING && brief.state() != pb::RUNNING;
    if (done && ToMillis(now) - std::max(brief.end_ms(), brief.submit_ms()) >= kMinJobAge.count())
      continue;
    pb::InfoRequest req1;
    req1.mutable_job()->set_job_id(brief.id());
    auto r = client->Info(req1);
    if (!r.ok()) continue;
    std::fputs(ShowJob(r->job(), std::nullopt, now, o.one_liner, o.details).c_str(), stdout);
    ++printed;
  }
  if (printed == 0 && !o.quiet) std::printf("No jobs in the system\n");
  return 0;
}

int ShowNodes(const std::optional<std::string>& names, const ScontrolOptions& o) {
  auto r = Connect(Home())->Nodes({});
  if (!r.ok()) {
    std::fprintf(stderr, "slurm_load_node error: %s\n", ErrorText(r.status()).c_str());
    return 1;
  }
  std::vector<const pb::NodeInfo*> all;
  for (const auto& n : r->nodes()) all.push_back(&n);
  std::sort(all.begin(), all.end(), [](const pb::NodeInfo* a, const pb::NodeInfo* b) {
    return HostLess(a->name(), b->name());
  });
  if (!names) {
    for (const auto* n : all) std::fputs(ShowNode(*n, o.one_liner).c_str(), stdout);
    if (all.empty() && !o.quiet) std::printf("No nodes in the system\n");
    return 0;
  }
  auto wanted = ExpandHostList(*names);
  if (!wanted.ok()) {
    std::fprintf(stderr, "Invalid node name specified\n");
    return 1;
  }
  int rc = 0;
  for (const auto& name : *wanted) {
    auto it = std::find_if(all.begin(), all.end(),
                           [&](const pb::NodeInfo* n) { return n->name() == name; });
    if (it == all.end()) {
      if (!o.quiet) std::printf("Node %s not found\n", name.c_str());
      rc = 1;
      continue;
    }
    std::fputs(ShowNode(**it, o.one_liner).c_str(), stdout);
  }
  return rc;
}

int ShowPartitions(const std::optional<std::string>& name, const ScontrolOptions& o) {
  auto r = Connect(Home())->Nodes({});
  if (!r.ok()) {
    std::fprintf(stderr, "slurm_load_partitions error: %s\n", ErrorText(r.status()).c_str());
    return 1;
  }
  int printed = 0;
  for (const auto& p : Partitions(*r)) {
    if (name && p.name != *name) continue;
    std::fputs(ShowPartition(p, o.one_liner).c_str(), stdout);
    ++printed;
  }
  if (printed > 0 || o.quiet) return name && printed == 0 ? 1 : 0;
  if (name) {
    std::printf("Partition %s not found\n", name->c_str());
    return 1;
  }
  std::printf("No partitions in the system\n");
  return 0;
}

int ShowSteps(const std::optional<std::string>& id, const ScontrolOptions& o) {
  // "12" (its steps), "12.3" or none (every running step).
  std::optional<int64_t> job, step;
  if (id) {
    auto ref = ParseJobRef(*id, /*steps=*/true);
    if (!ref.ok() || ref->index) {
      if (!o.quiet) std::fprintf(stderr, "slurm_get_job_steps error: Invalid job id specified\n");
      return 1;
    }
    job = ref->id;
    step = ref->step;
  }
  pb::QueueRequest req;
  if (job) req.add_job_ids(*job);
  req.set_specs(true);
  auto q = Connect(Home())->Queue(req);
  if (!q.ok()) {
    std::fprintf(stderr, "slurm_get_job_steps error: %s\n", ErrorText(q.status()).c_str());
    return 1;
  }
  int printed = 0;
  for (const auto& j : q->jobs())
    for (const auto& st : j.steps()) {
      if (step && st.step_id() != *step) continue;
      std::fputs(ShowStep(j, st, o.one_liner).c_str(), stdout);
      ++printed;
    }
  if (printed > 0) return 0;
  if (id) {
    if (!o.quiet)
      std::printf("Job step %s not found\n",
                  step ? id->c_str() : (std::to_string(*job) + ".batch").c_str());
    return 1;
  }
  if (!o.quiet) std::printf("No job steps in the system\n");
  return 0;
}

// The head's host as tools would name it: $SWELL_HEAD's host, else this machine.
std::string ControllerHost(int* port) {
  if (const char* head = std::getenv("SWELL_HEAD"); head && *head) {
    std::string h = head;
    auto colon = h.rfind(':');
    if (colon != std::string::npos) {
      *port = std::atoi(h.c_str() + colon + 1);
      return h.substr(0, colon);
    }
    return h;
  }
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

int ShowConfigCmd() {
  auto client = Connect(Home());
  auto nodes = client->Nodes({});
  if (!nodes.ok()) {
    std::fprintf(stderr, "slurm_load_ctl_conf error: %s\n", ErrorText(nodes.status()).c_str());
    return 1;
  }
  ConfigFacts f;
  f.state_dir = Home();
  f.controller = ControllerHost(&f.port);
  auto cfg = head::config::Load(f.state_dir + "/cluster.toml");
  if (cfg.ok()) {
    f.kill_wait_s = cfg->kill_wait_s;
    f.slurmd_timeout_s = cfg->node_timeout_s;
    if (f.port == 0 && !cfg->tcp.empty()) {
      auto colon = cfg->tcp.rfind(':');
      if (colon != std::string::npos) f.port = std::atoi(cfg->tcp.c_str() + colon + 1);
    }
  }
  f.elastic = nodes->partitions_size() > 0;
  struct stat st {};
  uid_t owner = getuid();
  if (stat((f.state_dir + "/head.pid").c_str(), &st) == 0) {
    owner = st.st_uid;
    f.boot_ms = static_cast<int64_t>(st.st_mtime) * 1000;
  }
  struct passwd* pw = getpwuid(owner);
  f.slurm_user =
      std::string(pw ? pw->pw_name : std::to_string(owner)) + "(" + std::to_string(owner) + ")";
  std::fputs(ShowConfig(f, SystemClock().Now()).c_str(), stdout);
  return 0;
}

int Show(const std::vector<std::string>& words, const ScontrolOptions& o) {
  const std::string& keyword = words[0];
  if (words.size() < 2) {
    if (!o.quiet) std::fprintf(stderr, "too few arguments for keyword:%s\n", keyword.c_str());
    return 1;
  }
  if (words.size() > 3) {
    if (!o.quiet) std::fprintf(stderr, "too many arguments for keyword:%s\n", keyword.c_str());
    return 1;
  }
  std::string tag = words[1];
  std::optional<std::string> val;
  if (auto eq = tag.find('='); eq != std::string::npos) {
    val = tag.substr(eq + 1);
    tag = tag.substr(0, eq);
  } else if (words.size() == 3) {
    val = words[2];
  }
  // Slurm's entities in its order (which decides what an abbreviation names).
  auto unsupported = [&] {
    std::fprintf(stderr, "scontrol: error: 'show %s' is not supported by swell (docs/slurm.md)\n",
                 tag.c_str());
    return 1;
  };
  if (Abbrev(tag, "aliases", 1) || Abbrev(tag, "bbstat", 2) || Abbrev(tag, "dwstat", 2) ||
      Abbrev(tag, "burstbuffer", 2) || Abbrev(tag, "assoc_mgr", 2) || Abbrev(tag, "cache", 2))
    return unsupported();
  if (Abbrev(tag, "config", 1)) return ShowConfigCmd();
  if (Abbrev(tag, "daemons", 1) || Abbrev(tag, "federations", 1) || Abbrev(tag, "frontendname", 1))
    return unsupported();
  if (Abbrev(tag, "hostnames", 5)) {
    const char* env = getenv("SLURM_JOB_NODELIST");
    if (!env) env = getenv("SLURM_NODELIST");
    if (!val && !env) {
      std::fprintf(stderr, "scontrol: error: host list is empty\n");
      return 0;
    }
    std::string list = val ? *val : env;
    auto hosts = ExpandHostList(list);
    if (!hosts.ok()) {
      std::fprintf(stderr, "Invalid hostlist: %s\n", list.c_str());
      return 0;
    }
    for (const auto& h : *hosts) std::printf("%s\n", h.c_str());
    return 0;
  }
  if (Abbrev(tag, "hostlist", 5) || Abbrev(tag, "hostlistsorted", 9)) {
    if (!val) {
      std::fprintf(stderr, "invalid encode argument\n");
      return 1;
    }
    auto hosts = ExpandHostList(*val);
    if (!hosts.ok()) {
      std::fprintf(stderr, "Invalid hostlist: %s\n", val->c_str());
      return 1;
    }
    std::printf("%s\n", CompressHostList(*hosts).c_str());
    return 0;
  }
  if (Abbrev(tag, "jobs", 1) || Abbrev(tag, "jobid", 1)) return ShowJobs(val, o);
  if (Abbrev(tag, "licenses", 2)) return unsupported();
  if (Abbrev(tag, "nodes", 1)) return ShowNodes(val, o);
  if (Abbrev(tag, "partitions", 2) || Abbrev(tag, "partitionname", 2))
    return ShowPartitions(val, o);
  if (Abbrev(tag, "reservations", 1) || Abbrev(tag, "reservationname", 1) ||
      Abbrev(tag, "slurmd", 2))
    return unsupported();
  if (Abbrev(tag, "steps", 2)) return ShowSteps(val, o);
  if (Abbrev(tag, "topology", 1)) return unsupported();
  if (!o.quiet)
    std::fprintf(stderr, "invalid entity:%s for keyword:%s \n", tag.c_str(), keyword.c_str());
  return 1;
}

// ---- Job control -----------------------------------------------------------------------------

// Sends one control request for the job (or array task) `text` names; prints Slurm's
// "<why> for job <text>" when refused. Returns the refusal, empty when done.
std::string Control(rpc::HeadClient* client, pb::ControlRequest::Action action,
                    const std::string& text, const pb::JobUpdate* update,
                    const ScontrolOptions& o) {
  auto ref = ParseJobRef(text);
  std::string why;
  if (!ref.ok()) {
    why = "Invalid job id specified";
  } else {
    pb::ControlRequest req;
    req.set_action(action);
    req.mutable_job()->set_job_id(ref->id);
    if (ref->index)
      req.mutable_job()->set_has_index(true), req.mutable_job()->set_array_index(*ref->index);
    if (update) *req.mutable_update() = *update;
    auto r = client->Control(req);
    if (!r.ok()) {
      std::fprintf(stderr, "scontrol: error: %s\n", ErrorText(r.status()).c_str());
      return "Unable to contact slurm controller (connect failure)";
    }
    why = r->error();
  }
  if (!why.empty() && !o.quiet) std::fprintf(stderr, "%s for job %s\n", why.c_str(), text.c_str());
  return why;
}

// A job list as scontrol takes it: "12,13_4" or "JobId=12" (commas and blanks separate ids).
std::vector<std::string> JobList(std::string text) {
  for (const char* prefix : {"jobid=", "job="})
    if (text.size() >= std::strlen(prefix) &&
        EqualsIgnoreCase(text.substr(0, std::strlen(prefix)), prefix))
      text = text.substr(std::strlen(prefix));
  std::vector<std::string> out;
  std::string cur;
  for (char c : text + ",") {
    if (c == ',' || c == ' ') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

int HoldOrRelease(const std::vector<std::string>& words, bool hold, const ScontrolOptions& o) {
  auto client = Connect(Home());
  std::string last;
  for (size_t i = 1; i < words.size(); ++i) {
    std::vector<std::string> ids;
    std::string w = words[i];
    bool by_name = false;
    for (const char* prefix : {"name=", "jobname="})
      if (w.size() > std::strlen(prefix) &&
          EqualsIgnoreCase(w.substr(0, std::strlen(prefix)), prefix)) {
        // The caller's pending jobs of that name.
        by_name = true;
        pb::QueueRequest q;
        auto r = client->Queue(q);
        if (r.ok())
          for (const auto& j : r->jobs())
            if (j.name() == w.substr(std::strlen(prefix)) && j.uid() == getuid() &&
                j.state() == pb::PENDING)
              ids.push_back(std::to_string(j.id()));
      }
    if (!by_name) ids = JobList(w);
    for (const auto& id : ids) {
      auto why =
          Control(client.get(), hold ? pb::ControlRequest::HOLD : pb::ControlRequest::RELEASE, id,
                  nullptr, o);
      if (!why.empty()) last = why;
    }
  }
  if (last.empty()) return 0;
  if (!o.quiet) std::fprintf(stderr, "slurm_suspend error: %s\n", last.c_str());
  return 1;
}

int ForEachJob(const std::vector<std::string>& words, size_t first,
               pb::ControlRequest::Action action, const ScontrolOptions& o) {
  auto client = Connect(Home());
  int rc = 0;
  for (size_t i = first; i < words.size(); ++i)
    for (const auto& id : JobList(words[i]))
      if (!Control(client.get(), action, id, nullptr, o).empty()) rc = 1;
  return rc;
}

int Update(const std::vector<std::string>& words, const ScontrolOptions& o) {
  const std::vector<std::string> args(words.begin() + 1, words.end());
  // The entity: a job when any word names JobId or JobName (Slurm checks jobs first).
  bool job = false, other = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string tag = args[i];
    if (auto eq = tag.find('='); eq != std::string::npos)
      tag = tag.substr(0, eq);
    else
      ++i;
    if (Abbrev(tag, "JobId", 3) || Abbrev(tag, "JobNAME", 3)) job = true;
    for (const auto& [k, n] : std::vector<std::pair<const char*, size_t>>{{"NodeName", 3},
                                                                          {"PartitionName", 3},
                                                                          {"StepId", 4},
                                                                          {"FrontendName", 2},
                                                                          {"ReservationName", 3},
                                                                          {"SlurmctldDebug", 2}})
      if (Abbrev(tag, k, n)) other = true;
  }
  if (!job && other) {
    std::fprintf(stderr, "scontrol: error: swell updates jobs only (docs/slurm.md)\n");
    return 1;
  }
  if (!job) {
    std::fprintf(stderr,
                 "No valid entity in update command\n"
                 "Input line must include \"NodeName\", \"PartitionName\", \"Reservation\", "
                 "\"JobId\", or \"SlurmctldDebug\"\n");
    return 1;
  }
  auto parsed = ParseJobUpdate(args, SystemClock().Now());
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s\n", parsed.status().message().c_str());
    return 1;
  }
  auto client = Connect(Home());
  int rc = 0;
  for (const auto& id : parsed->job_ids) {
    if (parsed->bad_dependency) {
      if (!o.quiet) std::fprintf(stderr, "Job dependency problem for job %s\n", id.c_str());
      rc = 1;
      continue;
    }
    pb::JobUpdate u = parsed->update;
    if (parsed->time_delta_ms) {
      auto ref = ParseJobRef(id);
      pb::InfoRequest req;
      req.mutable_job()->set_job_id(ref.ok() ? ref->id : 0);
      auto info = ref.ok() ? client->Info(req) : Result<pb::InfoReply>(NotFound(""));
      if (!info.ok()) {
        if (!o.quiet) std::fprintf(stderr, "Invalid job id specified for job %s\n", id.c_str());
        rc = 1;
        continue;
      }
      int64_t cur = info->job().spec().time_limit_ms();
      if (cur > 0) {
        int64_t next = cur + *parsed->time_delta_ms;
        if (next <= 0) {
          std::fprintf(stderr,
                       "scontrol: error: TimeLimit decrement larger than current time limit "
                       "(%lld > %lld)\n",
                       static_cast<long long>(-*parsed->time_delta_ms / 60000),
                       static_cast<long long>(cur / 60000));
          rc = 1;
          continue;
        }
        u.set_time_limit_ms(next);
      }
    }
    if (!Control(client.get(), pb::ControlRequest::UPDATE, id, &u, o).empty()) rc = 1;
  }
  return rc;
}

}  // namespace

int Scontrol(const std::vector<std::string>& args) {
  auto opts = ParseScontrolArgs(args);
  if (!opts.ok()) {
    std::fprintf(stderr, "%s\n", opts.status().message().c_str());
    return 1;
  }
  const ScontrolOptions& o = *opts;
  if (o.help || o.usage) {
    std::fputs(o.help ? kHelp : kUsage, stdout);
    return 0;
  }
  if (o.version) {
    std::printf("%s\n", kSlurmVersion);
    return 0;
  }
  const auto& words = o.command;
  if (words.empty()) {
    std::fprintf(stderr,
                 "scontrol: error: interactive mode is not supported by swell; give a command "
                 "(scontrol show job ID)\n");
    return 1;
  }
  const std::string& tag = words[0];
  auto too_many = [&](size_t max) {
    if (words.size() <= max) return false;
    std::fprintf(stderr, "too many arguments for keyword:%s\n", tag.c_str());
    return true;
  };
  auto too_few = [&](size_t min) {
    if (words.size() >= min) return false;
    if (!o.quiet) std::fprintf(stderr, "too few arguments for keyword:%s\n", tag.c_str());
    return true;
  };
  // Slurm's keywords in its order: the first that `tag` abbreviates is the command.
  if (Abbrev(tag, "abort", 5) || Abbrev(tag, "cancel_reboot", 3) || Abbrev(tag, "cluster", 2) ||
      Abbrev(tag, "create", 2)) {
    std::fprintf(stderr, "scontrol: error: '%s' is not supported by swell\n", tag.c_str());
    return 1;
  }
  // Settings for later commands of an interactive session: nothing to do here.
  if (Abbrev(tag, "all", 2) || Abbrev(tag, "details", 1)) return too_many(1) ? 1 : 0;
  if (Abbrev(tag, "exit", 2)) return too_many(1) ? 1 : 0;
  if (Abbrev(tag, "help", 2)) {
    std::fputs(kHelp, stdout);
    return too_many(1) ? 1 : 0;
  }
  if (Abbrev(tag, "hide", 2) || Abbrev(tag, "oneliner", 1)) return too_many(1) ? 1 : 0;
  if (Abbrev(tag, "ping", 3)) {
    if (too_many(1)) return 1;
    int port = 0;
    bool up = Connect(Home())->Nodes({}).ok();
    std::printf("Slurmctld(primary) at %s is %s\n", ControllerHost(&port).c_str(),
                up ? "UP" : "DOWN");
    return up ? 0 : 1;
  }
  if (Abbrev(tag, "quiet", 4) || Abbrev(tag, "quit", 4)) return too_many(1) ? 1 : 0;
  if (Abbrev(tag, "requeue", 3) || EqualsIgnoreCase(tag, "requeuehold")) {
    if (too_few(2)) return 1;
    // Leading flags (Incomplete, State=SpecialExit) are accepted and ignored.
    size_t first = 1;
    while (first < words.size() && (EqualsIgnoreCase(words[first], "Incomplete") ||
                                    EqualsIgnoreCase(words[first], "State=SpecialExit")))
      ++first;
    return ForEachJob(words, first,
                      EqualsIgnoreCase(tag, "requeuehold") ? pb::ControlRequest::REQUEUE_HOLD
                                                           : pb::ControlRequest::REQUEUE,
                      o);
  }
  if (Prefix(tag, "hold", 4) || Prefix(tag, "holdu", 5) || Prefix(tag, "uhold", 5) ||
      Abbrev(tag, "release", 3)) {
    if (too_few(2)) return 1;
    return HoldOrRelease(words, !Abbrev(tag, "release", 3), o);
  }
  if (Abbrev(tag, "suspend", 2) || Abbrev(tag, "resume", 3)) {
    if (too_few(2)) return 1;
    return ForEachJob(
        words, 1,
        Abbrev(tag, "suspend", 2) ? pb::ControlRequest::SUSPEND : pb::ControlRequest::RESUME, o);
  }
  if (Abbrev(tag, "show", 3)) return Show(words, o);
  if (Abbrev(tag, "update", 1)) {
    if (words.size() < 2) {
      std::fprintf(stderr, "too few arguments for %s keyword\n", tag.c_str());
      return 1;
    }
    return Update(words, o);
  }
  if (Abbrev(tag, "delete", 1)) {
    std::fprintf(stderr, "scontrol: error: 'delete' is not supported by swell\n");
    return 1;
  }
  if (Abbrev(tag, "verbose", 4)) return too_many(1) ? 1 : 0;
  if (Abbrev(tag, "version", 4)) {
    if (words.size() > 1) {
      std::fprintf(stderr, "too many arguments for %s keyword\n", tag.c_str());
      return 1;
    }
    std::printf("%s\n", kSlurmVersion);
    return 0;
  }
  for (const char* known :
       {"completing",  "errnumstr",     "gethost", "pidinfo",  "reboot_nodes",
        "reconfigure", "top",           "token",   "wait_job", "setdebugflags",
        "setdebug",    "schedloglevel", "write",   "takeover", "shutdown",
        "listpids",    "getent",        "notify",  "callerid", "fsdampeningfactor"})
    if (Abbrev(tag, known, 3)) {
      std::fprintf(stderr, "scontrol: error: '%s' is not supported by swell\n", tag.c_str());
      return 1;
    }
  std::fprintf(stderr, "invalid keyword: %s\n", tag.c_str());
  return 1;
}

}  // namespace swell::cli
