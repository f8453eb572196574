// The Slurm commands: sbatch, squeue, scancel, sinfo and scontrol, run when the swell binary is
// called by their names (build/bin/squeue -> swell). What they print comes from squeue_view.h,
// sinfo_view.h and scontrol_view.h; docs/slurm.md lists the supported subset and every known
// difference from Slurm.

#include <pwd.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <set>

#include "cli/cli.h"
#include "cli/job_state.h"
#include "cli/scontrol_cmd.h"
#include "cli/sinfo_view.h"
#include "cli/slurm_args.h"
#include "cli/slurm_fields.h"
#include "cli/squeue_view.h"
#include "common/hostlist.h"
#include "common/slurm_output.h"
#include "common/text.h"

namespace swell::cli {
namespace {

using namespace slurm;  // NOLINT: this file is the Slurm front end

constexpr const char* kVersion = kSlurmVersion;

// ---- Shared pieces ---------------------------------------------------------------------------

// Prints a parse error (the whole text) and returns Slurm's exit code for it.
int ParseError(const Status& s) {
  std::fprintf(stderr, "%s\n", s.message().c_str());
  return 1;
}

// Handles --help, --usage and --version; returns whether the command should stop.
bool Informational(const CommonOptions& o, const char* usage, const char* help) {
  if (o.help) std::fputs(help, stdout);
  if (o.usage) std::fputs(usage, stdout);
  if (o.version) std::printf("%s\n", kVersion);
  return o.help || o.usage || o.version;
}

// Slurm's date line above long listings: "Thu Nov 21 04:22:01 2024".
void PrintDate() {
  time_t now = time(nullptr);
  struct tm tm;
  localtime_r(&now, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%a %b %d %T %Y", &tm);
  std::printf("%s\n", buf);
}

// A format with its unknown fields turned into literal text, as Slurm prints them after
// reporting each one on stderr ("squeue: error: Invalid job format specification: q").
OutputFormat CheckedFormat(std::string_view text, bool (*known)(char),
                           const std::string& complaint) {
  OutputFormat f = ParseOutputFormat(text);
  for (auto& field : f.fields) {
    if (known(field.type)) continue;
    std::fprintf(stderr, "%s%c\n", complaint.c_str(), field.type ? field.type : ' ');
    field.suffix = "%" + field.token;
    field.type = 0;
    field.width = 0;
  }
  return f;
}

// The JSON envelope of squeue and sinfo --json.
void PrintJson(nlohmann::json body, const char* command, const Args& args) {
  nlohmann::json argv = nlohmann::json::array({command});
  for (const auto& a : args) argv.push_back(a);
  body["meta"] = {{"plugin", {{"type", ""}, {"name", ""}, {"data_parser", "swell"}}},
                  {"command", argv},
                  {"slurm", {{"release", kVersion}, {"cluster", "swell"}}}};
  body["errors"] = nlohmann::json::array();
  body["warnings"] = nlohmann::json::array();
  std::printf("%s\n", body.dump(2).c_str());
}

// Whether a job of (name, uid) belongs to one of `users` (names or uids).
bool UserMatches(const std::vector<std::string>& users, const std::string& name, uint32_t uid) {
  for (const auto& u : users) {
    if (u == name || u == std::to_string(uid)) return true;
    struct passwd* pw = getpwnam(u.c_str());
    if (pw && pw->pw_uid == uid) return true;
  }
  return false;
}

bool KnownUser(const std::string& u) {
  if (!u.empty() && u.find_first_not_of("0123456789") == std::string::npos) return true;
  return getpwnam(u.c_str()) != nullptr;
}

// A job id as the head knows it: a task's own id ("15" for task 3 of array 12) becomes "12_3".
// nullopt when the head knows no such job (nor task).
std::optional<JobRef> Resolve(rpc::HeadClient* client, const JobRef& ref) {
  pb::InfoRequest req;
  req.mutable_job()->set_job_id(ref.id);
  auto r = client->Info(req);
  if (!r.ok()) return std::nullopt;
  const auto& j = r->job();
  if (j.id() != ref.id && j.tasks_size() == 1 && !ref.index)
    return JobRef{j.id(), j.tasks(0).array_index()};
  return ref;
}

// Keeps the rows that `refs` name; a pending array line named only by some of its tasks keeps
// just those.
std::vector<JobRow> SelectRows(std::vector<JobRow> rows, const std::vector<JobRef>& refs) {
  std::vector<JobRow> out;
  for (auto& row : rows) {
    std::set<int64_t> indices;
    bool whole = false, any = false;
    for (const auto& ref : refs) {
      if (!RowMatches(row, ref)) continue;
      any = true;
      if (ref.index && row.job->id() == ref.id)
        indices.insert(*ref.index);
      else
        whole = true;
    }
    if (!any) continue;
    if (!whole) NarrowRow(&row, indices);
    out.push_back(std::move(row));
  }
  return out;
}

constexpr char kSqueueUsage[] =
    "Usage: squeue [-j jobs] [-n names] [-o format] [-p partitions] [-t states] [-u users]\n"
    "              [-w nodes] [--json] [--me] [-ahlrvV]\n";
constexpr char kSqueueHelp[] =
    "Usage: squeue [OPTIONS]\n"
    "  -a, --all                  accepted (swell has no hidden partitions)\n"
    "  -h, --noheader             no header line\n"
    "  -j, --jobs=ID[,ID...]      these jobs (ID or ID_INDEX), in any state\n"
    "      --json                 JSON output\n"
    "  -l, --long                 long format\n"
    "      --me                   my jobs\n"
    "  -n, --name=NAMES           jobs with these names\n"
    "  -o, --format=FORMAT        output format (%i %P %j %u %t %T %M %l %D %R %N %C ...)\n"
    "  -p, --partition=PARTS      jobs in these partitions\n"
    "  -r, --array                one line per array task\n"
    "  -t, --states=STATES        states to show (PD,R,CD,F,CA,TO,NF or long names, or all)\n"
    "  -u, --user=USERS           jobs of these users (names or uids)\n"
    "  -w, --nodelist=HOSTLIST    jobs on these nodes\n"
    "  -v, --verbose  -V, --version  --help  --usage\n"
    "Supported subset and differences from Slurm: docs/slurm.md\n";

constexpr char kSinfoUsage[] =
    "Usage: sinfo [-o format] [-p partition] [-n nodes] [-t states] [--json] [-dehlNrsvV]\n";
constexpr char kSinfoHelp[] =
    "Usage: sinfo [OPTIONS]\n"
    "  -d, --dead                 only nodes that do not respond\n"
    "  -e, --exact                accepted\n"
    "  -h, --noheader             no header line\n"
    "      --json                 JSON output\n"
    "  -l, --long                 long format\n"
    "  -N, --Node                 one line per node\n"
    "  -n, --nodes=HOSTLIST       these nodes\n"
    "  -o, --format=FORMAT        output format (%P %a %l %D %t %T %N %c %m %C %F %E ...)\n"
    "  -p, --partition=PARTS      these partitions\n"
    "  -r, --responding           only nodes that respond\n"
    "  -s, --summarize            one line per partition\n"
    "  -t, --states=STATES        nodes in these states (idle, mix, alloc, down, drain, ...)\n"
    "  -v, --verbose  -V, --version  --help  --usage\n"
    "Supported subset and differences from Slurm: docs/slurm.md\n";

constexpr char kScancelUsage[] =
    "Usage: scancel [-n job_name] [-p partition] [-s signal] [-t PENDING|RUNNING] [-u user]\n"
    "               [-w hosts] [--me] [-bfQvV] [job_id[_array_id]...]\n";
constexpr char kScancelHelp[] =
    "Usage: scancel [OPTIONS] [job_id[_array_id]...]\n"
    "  -b, --batch  -f, --full    accepted (a swell job is its batch step)\n"
    "      --me                   my jobs\n"
    "  -n, --name=NAME            jobs with this name\n"
    "  -p, --partition=PART       jobs in this partition\n"
    "  -Q, --quiet                no warnings\n"
    "  -s, --signal=SIGNAL        send this signal instead of cancelling (KILL cancels)\n"
    "  -t, --state=STATE          jobs in this state (PENDING, RUNNING)\n"
    "  -u, --user=USER            jobs of this user\n"
    "  -w, --nodelist=HOSTLIST    jobs on these nodes\n"
    "  -v, --verbose  -V, --version  --help  --usage\n"
    "Supported subset and differences from Slurm: docs/slurm.md\n";

// ---- squeue ----------------------------------------------------------------------------------

int Squeue(const Args& args) {
  auto opts = ParseSqueueArgs(args);
  if (!opts.ok()) return ParseError(opts.status());
  if (Informational(*opts, kSqueueUsage, kSqueueHelp)) return 0;
  auto client = Connect(Home());
  std::vector<JobRef> refs;
  for (const auto& ref : opts->jobs)
    if (auto r = Resolve(client.get(), ref)) refs.push_back(*r);
  // One id that does not exist is an error; in a list it is not (Slurm loads one job alone).
  if (opts->jobs.size() == 1 && refs.empty()) {
    std::fprintf(stderr, "slurm_load_jobs error: Invalid job id specified\n");
    return 1;
  }
  if (!opts->jobs.empty() && refs.empty()) refs.push_back({0, std::nullopt});  // matches none

  std::string text;
  if (opts->format) {
    text = *opts->format;
  } else if (const char* env = getenv("SQUEUE_FORMAT"); env && *env && !opts->long_format) {
    text = env;
  } else {
    // squeue(1): default "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R",
    // -l "%.18i %.9P %.8j %.8u %.8T %.10M %.9l %.6D %R".
    text = opts->long_format ? "%.18i %.9P %.8j %.8u %.8T %.10M %.9l %.6D %R"
                             : "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R";
  }
  OutputFormat format =
      CheckedFormat(text, IsJobField, "squeue: error: Invalid job format specification: ");
  pb::QueueRequest req;
  req.set_tasks(true);
  req.set_specs(true);
  // Lines of only the columns a brief spec fills (the default and -l formats) ask for no more.
  req.set_brief_specs(!opts->json && !opts->steps &&
                      std::all_of(format.fields.begin(), format.fields.end(), [](const auto& f) {
                        return std::string_view("iPjutTMlDRN").find(f.type) !=
                               std::string_view::npos;
                      }));
  bool terminal_wanted = opts->all_states;
  if (opts->states)
    for (const auto& s : *opts->states)
      terminal_wanted = terminal_wanted || (s != "PENDING" && s != "RUNNING");
  if (!refs.empty()) {
    std::set<int64_t> ids;
    for (const auto& r : refs) ids.insert(r.id);
    for (int64_t id : ids) req.add_job_ids(id);
  } else if (terminal_wanted) {
    req.set_all(true);
  }
  // The reply on an arena whose first block is a large reserved region in huge pages where
  // the kernel gives them: 100,000 jobs take ~150 MB, and faulting that in 4 KiB pages, and
  // allocating it message by message, were most of squeue's own time (docs/BENCHMARKS.md).
  // Neither the arena nor the region is ever freed: the command ends with _exit (rpc/client.h,
  // SetUpForOneCommand), and the arena's cleanup of every message would only cost time. (Under
  // ThreadSanitizer that cleanup also stopped the command: JobSpec's map destructor, run by
  // protobuf 3.21's arena, deleted a pointer TSan's allocator had not given out.)
  constexpr size_t kRegion = size_t{1} << 30;
  void* region = mmap(nullptr, kRegion, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  google::protobuf::ArenaOptions arena_options;
  if (region != MAP_FAILED) {
    madvise(region, kRegion, MADV_HUGEPAGE);
    arena_options.initial_block = static_cast<char*>(region);
    arena_options.initial_block_size = kRegion;
  }
  auto* arena = new google::protobuf::Arena(arena_options);
  auto* reply = google::protobuf::Arena::CreateMessage<pb::QueueReply>(arena);
  if (Status s = client->QueueInto(req, reply); !s.ok()) {
    std::fprintf(stderr, "slurm_load_jobs error: %s\n", ErrorText(s).c_str());
    return 1;
  }
  Time now = SystemClock().Now();
  std::vector<JobRow> rows = JobRows(*reply, opts->one_per_task);
  if (!refs.empty()) rows = SelectRows(std::move(rows), refs);
  for (const auto& u : opts->users)
    if (!KnownUser(u) &&
        std::none_of(rows.begin(), rows.end(), [&](const JobRow& r) { return r.job->user() == u; }))
      std::fprintf(stderr, "squeue: error: Invalid user: %s\n\n", u.c_str());
  // The lines the filters keep, kept in place (a second vector of 100,000 lines was 25 MB of
  // fresh pages).
  std::erase_if(rows, [&](const JobRow& row) {
    std::string state(JobStateName(row.state));
    if (opts->states ? !opts->states->count(state)
                     : !opts->all_states && state != "PENDING" && state != "RUNNING")
      return true;
    if (refs.empty() && !Recent(row, now)) return true;
    if (!opts->users.empty() && !UserMatches(opts->users, row.job->user(), row.job->uid()))
      return true;
    if (!opts->names.empty() &&
        std::none_of(opts->names.begin(), opts->names.end(),
                     [&](const std::string& n) { return EqualsIgnoreCase(n, row.job->name()); }))
      return true;
    if (!opts->partitions.empty() && std::find(opts->partitions.begin(), opts->partitions.end(),
                                               row.partition) == opts->partitions.end())
      return true;
    return !opts->nodes.empty() &&
           std::none_of(row.nodes.begin(), row.nodes.end(), [&](const std::string& n) {
             return std::find(opts->nodes.begin(), opts->nodes.end(), n) != opts->nodes.end();
           });
  });
  std::vector<JobRow>& shown = rows;
  // A finished job's nodes are in its tasks (recent ones only are listed: few calls).
  for (auto& row : shown) {
    if (!row.nodes.empty() || row.state == pb::PENDING || row.state == pb::RUNNING) continue;
    pb::InfoRequest info;
    info.mutable_job()->set_job_id(row.job->id());
    auto r = client->Info(info);
    if (!r.ok()) continue;
    std::set<std::string> nodes;
    for (const auto& t : r->job().tasks())
      if (!t.node().empty()) nodes.insert(t.node());
    row.nodes.assign(nodes.begin(), nodes.end());
  }
  if (opts->steps) {
    // squeue(1) with -s: "%.15i %.8j %.9P %.8u %.9M %N", one line per running step.
    std::string out;
    if (!opts->no_header)
      out += PadField("STEPID", 15, true) + " " + PadField("NAME", 8, true) + " " +
             PadField("PARTITION", 9, true) + " " + PadField("USER", 8, true) + " " +
             PadField("TIME", 9, true) + " NODELIST\n";
    std::set<int64_t> seen;
    for (const auto& row : shown) {
      if (!seen.insert(row.job->id()).second) continue;
      for (const auto& st : row.job->steps()) {
        int64_t used = std::max<int64_t>(0, (ToMillis(now) - st.start_ms()) / 1000);
        out +=
            PadField(std::to_string(row.job->id()) + "." + std::to_string(st.step_id()), 15, true) +
            " " + PadField(st.name(), 8, true) + " " + PadField(row.partition, 9, true) + " " +
            PadField(row.job->user(), 8, true) + " " + PadField(FormatSeconds(used), 9, true) +
            " " + CompressHostList({st.nodes().begin(), st.nodes().end()}) + "\n";
      }
    }
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  if (opts->json) {
    PrintJson(JobsJson(shown), "squeue", args);
    return 0;
  }
  if (!opts->no_header && (opts->long_format || opts->verbose)) PrintDate();
  if (!opts->no_header)
    std::printf("%s\n",
                RenderLine(format, [](const OutputField& f) { return JobHeader(f.type); }).c_str());
  for (const auto& row : shown)
    std::printf("%s\n", RenderLine(format, [&](const OutputField& f) {
                          return JobField(f.type, row, now);
                        }).c_str());
  return 0;
}

// ---- sinfo -----------------------------------------------------------------------------------

// Default formats take the widths of the longest partition name and, with -N, node list (at
// least 9), as Slurm's "%#P" and "%#N" do.
void FitWidths(OutputFormat* f, const std::vector<NodeGroup>& groups, bool nodes) {
  size_t part = 9, node = 9;
  for (const auto& g : groups) {
    part = std::max(part, g.partition.size() + (g.is_default ? 1 : 0));
    node = std::max(node, NodeField('N', g).text.size());
  }
  for (auto& field : f->fields) {
    if (field.type == 'P' || field.type == 'R') field.width = static_cast<int>(part);
    if (nodes && field.type == 'N') field.width = static_cast<int>(node);
  }
}

int Sinfo(const Args& args) {
  auto opts = ParseSinfoArgs(args);
  if (!opts.ok()) return ParseError(opts.status());
  if (Informational(*opts, kSinfoUsage, kSinfoHelp)) return 0;
  auto reply = Connect(Home())->Nodes({});
  if (!reply.ok()) {
    std::fprintf(stderr, "slurm_load_node error: %s\n", ErrorText(reply.status()).c_str());
    return 1;
  }
  // Node filters.
  bool filtered = !opts->states.empty() || !opts->nodes.empty() || opts->responding || opts->dead;
  pb::NodesReply nodes;
  *nodes.mutable_partitions() = reply->partitions();
  for (const auto& n : reply->nodes()) {
    NodeState st = NodeStateOf(n);
    bool no_respond = st.compact.find('*') != std::string::npos;
    if (!NodeMatchesStates(st, opts->states)) continue;
    if (opts->responding && no_respond) continue;
    if (opts->dead && !no_respond) continue;
    if (!opts->nodes.empty() &&
        std::find(opts->nodes.begin(), opts->nodes.end(), n.name()) == opts->nodes.end())
      continue;
    *nodes.add_nodes() = n;
  }
  std::string text;
  bool fit = false;
  if (opts->format) {
    text = *opts->format;
  } else if (const char* env = getenv("SINFO_FORMAT");
             env && *env && !opts->node_oriented && !opts->summarize && !opts->long_format) {
    text = env;
  } else {
    // sinfo(1): default "%#P %.5a %.10l %.6D %.6t %N" (older pages: "%9P ..."), --summarize
    // "%#P %.5a %.10l %.16F  %N", --long "%#P %.5a %.10l %.10s %.4r %.8h %.10g %.6D %.11T
    // %.11i %N", --Node "%#N %.6D %#P %6t" (the partition right-justified), --long --Node
    // "%#N %.6D %#P %.11T %.4c %.8z %.6m %.8d %.6w %.8f %20E"; "#" is the longest name.
    fit = true;
    if (opts->node_oriented)
      text = opts->long_format ? "%9N %.6D %.9P %.11T %.4c %.8z %.6m %.8d %.6w %.8f %20E"
                               : "%9N %.6D %.9P %6t";
    else if (opts->summarize)
      text = "%9P %.5a %.10l %.16F  %N";
    else if (opts->long_format)
      text = "%9P %.5a %.10l %.10s %.4r %.8h %.10g %.6D %.11T %.11i %N";
    else
      text = "%9P %.5a %.10l %.6D %.6t %N";
  }
  OutputFormat format = CheckedFormat(text, IsNodeField, "Invalid node format specification: ");
  bool by_state = opts->json, by_reason = false;
  for (const auto& f : format.fields) {
    by_state = by_state || f.type == 't' || f.type == 'T';
    by_reason = by_reason || f.type == 'E';
  }
  std::vector<NodeGroup> groups;
  for (auto& g : NodeGroups(nodes, opts->node_oriented, by_state, by_reason)) {
    if (!opts->partitions.empty() && std::find(opts->partitions.begin(), opts->partitions.end(),
                                               g.partition) == opts->partitions.end())
      continue;
    if (filtered && g.nodes.empty()) continue;
    groups.push_back(std::move(g));
  }
  if (opts->json) {
    PrintJson(NodesJson(groups), "sinfo", args);
    return 0;
  }
  if (fit) FitWidths(&format, groups, opts->node_oriented);
  if (!opts->no_header && (opts->long_format || opts->verbose)) PrintDate();
  if (!opts->no_header)
    std::printf("%s\n", RenderLine(format, [](const OutputField& f) {
                          return NodeHeader(f.type);
                        }).c_str());
  for (const auto& g : groups)
    std::printf("%s\n", RenderLine(format, [&](const OutputField& f) {
                          return NodeField(f.type, g);
                        }).c_str());
  return 0;
}

// ---- scancel ---------------------------------------------------------------------------------

std::string RefText(const JobRef& r) {
  std::string text = std::to_string(r.id);
  if (r.index) text += "_" + std::to_string(*r.index);
  if (r.step) text += "." + std::to_string(*r.step);
  return text;
}

// Slurm's words for the head's refusals.
std::string KillError(const Status& s) {
  switch (s.code()) {
    case Code::kNotFound:
      return "Invalid job id specified";
    case Code::kPermissionDenied:
      return "Access/permission denied";
    default:
      return ErrorText(s);
  }
}

int Scancel(const Args& args) {
  auto opts = ParseScancelArgs(args);
  if (!opts.ok()) return ParseError(opts.status());
  if (Informational(*opts, kScancelUsage, kScancelHelp)) return 0;
  if (opts->user && !KnownUser(*opts->user)) {
    std::fprintf(stderr, "scancel: error: Invalid user name: %s\n", opts->user->c_str());
    return 1;
  }
  auto client = Connect(Home());
  bool cancel = !opts->signal || *opts->signal == SIGKILL;
  auto announce = [&](const JobRef& r) {
    if (opts->verbose <= 0) return;
    if (opts->signal)
      std::fprintf(stderr, "scancel: Signal %d to job %s\n", *opts->signal, RefText(r).c_str());
    else
      std::fprintf(stderr, "scancel: Terminating job %s\n", RefText(r).c_str());
  };
  auto send = [&](const std::vector<JobRef>& refs) {
    pb::CancelRequest req;
    for (const auto& r : refs) {
      auto* j = req.add_jobs();
      j->set_job_id(r.id);
      if (r.index) j->set_has_index(true), j->set_array_index(*r.index);
      if (r.step) j->set_has_step(true), j->set_step_id(*r.step);
    }
    if (!cancel) req.set_signal(*opts->signal);
    return client->Cancel(req).status();
  };
  int rc = 0;
  // Steps (ID.STEP) are cancelled or signalled as named, whatever the filters.
  const bool named_jobs = !opts->jobs.empty();
  for (auto it = opts->jobs.begin(); it != opts->jobs.end();) {
    if (!it->step) {
      ++it;
      continue;
    }
    announce(*it);
    Status s = send({*it});
    if (!s.ok() && !opts->quiet)
      std::fprintf(stderr, "scancel: error: Kill job error on job step id %s: %s\n",
                   RefText(*it).c_str(), KillError(s).c_str());
    if (!s.ok()) rc = 1;
    it = opts->jobs.erase(it);
  }
  if (named_jobs && opts->jobs.empty()) return rc;  // steps only: never every job
  if (!opts->Filtered()) {
    // Ids alone: each is sent as given; ids that do not exist (or ended) are quietly ignored
    // unless -v, as Slurm does.
    for (const auto& given : opts->jobs) {
      announce(given);
      auto ref = Resolve(client.get(), given);
      Status s = ref ? send({*ref}) : NotFound("");
      if (s.ok()) continue;
      bool quiet_error = s.code() == Code::kNotFound;
      if ((!quiet_error || opts->verbose > 0) && !opts->quiet)
        std::fprintf(stderr, "scancel: error: Kill job error on job id %s: %s\n",
                     RefText(given).c_str(), KillError(s).c_str());
      if (!quiet_error) rc = 1;
    }
    return rc;
  }
  // Filters or a signal: the active jobs are loaded, the ids checked against them, the filters
  // applied, and what is left is cancelled (or signalled).
  pb::QueueRequest qreq;
  qreq.set_tasks(true);
  qreq.set_specs(true);
  auto queue = client->Queue(qreq);
  if (!queue.ok()) {
    std::fprintf(stderr, "slurm_load_jobs error: %s\n", ErrorText(queue.status()).c_str());
    return 1;
  }
  std::vector<JobRow> rows = JobRows(*queue, /*one_per_task=*/false);
  std::vector<JobRef> refs;
  for (const auto& given : opts->jobs) {
    auto ref = Resolve(client.get(), given);
    if (ref && std::any_of(rows.begin(), rows.end(),
                           [&](const JobRow& r) { return RowMatches(r, *ref); })) {
      refs.push_back(*ref);
      continue;
    }
    rc = 1;
    if (!opts->quiet)
      std::fprintf(stderr, "scancel: error: Kill job error on job id %s: %s\n",
                   RefText(given).c_str(), "Invalid job id specified");
  }
  if (!opts->jobs.empty() && refs.empty()) return rc;
  std::vector<JobRef> targets;
  for (auto& row : rows) {
    if (!refs.empty() &&
        std::none_of(refs.begin(), refs.end(), [&](const JobRef& r) { return RowMatches(row, r); }))
      continue;
    const pb::JobInfo& j = *row.job;
    if (opts->name && j.name() != *opts->name) continue;
    if (opts->partition && row.partition != *opts->partition) continue;
    if (opts->user && !UserMatches({*opts->user}, j.user(), j.uid())) continue;
    if (opts->state && JobStateName(row.state) != *opts->state) continue;
    if (!opts->nodes.empty() &&
        std::none_of(row.nodes.begin(), row.nodes.end(), [&](const std::string& n) {
          return std::find(opts->nodes.begin(), opts->nodes.end(), n) != opts->nodes.end();
        }))
      continue;
    // The tasks the ids name, else the whole line: a job, or each task of an array line.
    std::vector<JobRef> named;
    for (const auto& r : refs)
      if (RowMatches(row, r) && r.index) named.push_back({j.id(), r.index});
    bool whole_job =
        row.indices.empty() || (row.indices.size() == static_cast<size_t>(j.task_count()));
    if (!named.empty())
      targets.insert(targets.end(), named.begin(), named.end());
    else if (whole_job)
      targets.push_back({j.id(), std::nullopt});
    else
      for (int64_t i : row.indices) targets.push_back({j.id(), i});
  }
  std::sort(targets.begin(), targets.end(), [](const JobRef& a, const JobRef& b) {
    return std::make_pair(a.id, a.index.value_or(-1)) < std::make_pair(b.id, b.index.value_or(-1));
  });
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  if (targets.empty()) {
    if (opts->verbose > 0 && refs.empty())
      std::fprintf(stderr, "scancel: error: No active jobs match ALL job filters\n");
    return rc;
  }
  for (const auto& t : targets) announce(t);
  // One request for all; should one of them have ended meanwhile, one request each.
  if (send(targets).ok()) return rc;
  for (const auto& t : targets) {
    Status s = send({t});
    if (s.ok() || (s.code() == Code::kNotFound && cancel)) continue;
    rc = 1;
    if (!opts->quiet)
      std::fprintf(stderr, "scancel: error: Kill job error on job id %s: %s\n", RefText(t).c_str(),
                   KillError(s).c_str());
  }
  return rc;
}

const char* const kCommands[] = {"sbatch",   "squeue", "scancel", "sinfo",
                                 "scontrol", "srun",   "salloc",  "swell-rsh"};

}  // namespace

bool IsSlurmCommand(const std::string& name) {
  return std::find(std::begin(kCommands), std::end(kCommands), name) != std::end(kCommands);
}

int SlurmCommand(const std::string& name, const Args& args) {
  if (name == "sbatch") return SubmitAs(args, {"sbatch", true});
  if (name == "squeue") return Squeue(args);
  if (name == "scancel") return Scancel(args);
  if (name == "sinfo") return Sinfo(args);
  if (name == "scontrol") return Scontrol(args);
  if (name == "srun") {
    // Outside an allocation srun makes one and runs the command as its step; inside one (a
    // batch script, salloc) it starts a step on the allocation's nodes.
    if (std::getenv("SLURM_JOB_ID") == nullptr) return SrunOutside(args);
    return RunStep(args, {"srun", true});
  }
  if (name == "swell-rsh") return Relay(args);
  return Salloc(args);
}

}  // namespace swell::cli
