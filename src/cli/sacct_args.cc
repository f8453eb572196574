// sacct's command line (parsed with getopt_long as Slurm's sacct does), its default time window
// and its filters, and the field list it prints.

#include <getopt.h>
#include <pwd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <map>

#include "cli/job_state.h"
#include "cli/sacct_view.h"
#include "common/local_time.h"
#include "common/text.h"

namespace swell::cli::slurm {
namespace {

constexpr char kDefaultFields[] = "jobid,jobname,partition,account,alloccpus,state,exitcode";
constexpr char kBriefFields[] = "jobid,state,exitcode";
constexpr char kLongFields[] =
    "jobid,jobidraw,jobname,partition,maxvmsize,maxvmsizenode,maxvmsizetask,avevmsize,maxrss,"
    "maxrssnode,maxrsstask,averss,maxpages,maxpagesnode,maxpagestask,avepages,mincpu,mincpunode,"
    "mincputask,avecpu,ntasks,alloccpus,elapsed,state,exitcode,avecpufreq,reqcpufreqmin,"
    "reqcpufreqmax,reqcpufreqgov,reqmem,consumedenergy,maxdiskread,maxdiskreadnode,"
    "maxdiskreadtask,avediskread,maxdiskwrite,maxdiskwritenode,maxdiskwritetask,avediskwrite,"
    "reqtres,alloctres,tresusageinave,tresusageinmax,tresusageinmaxn,tresusageinmaxt,"
    "tresusageinmin,tresusageinminn,tresusageinmint,tresusageintot,tresusageoutmax,"
    "tresusageoutmaxn,tresusageoutmaxt,tresusageoutave,tresusageouttot";

enum LongOnly : int { kHelp = 0x100, kUsage, kJson, kName, kDelimiter, kNoConvert, kUnits, kLocal };

// Slurm's state numbers by name (job_state_num): the states sacct accepts.
std::optional<pb::JobState> StateOf(const std::string& name) {
  static const std::map<std::string, pb::JobState> kStates = {
      {"PD", pb::PENDING},   {"PENDING", pb::PENDING},     {"R", pb::RUNNING},
      {"RUNNING", pb::RUNNING}, {"CD", pb::COMPLETED},     {"COMPLETED", pb::COMPLETED},
      {"F", pb::FAILED},     {"FAILED", pb::FAILED},       {"CA", pb::CANCELLED},
      {"CANCELLED", pb::CANCELLED}, {"TO", pb::TIMEOUT},  {"TIMEOUT", pb::TIMEOUT},
      {"NF", pb::NODE_FAIL}, {"NODE_FAIL", pb::NODE_FAIL}, {"DL", pb::DEADLINE},
      {"DEADLINE", pb::DEADLINE}};
  auto it = kStates.find(ToUpper(name));
  if (it == kStates.end()) return std::nullopt;
  return it->second;
}

// The states Slurm knows that swell never has: accepted, they match nothing.
bool OtherSlurmState(const std::string& name) {
  static const char* const kOther[] = {"S",  "SUSPENDED", "BF", "BOOT_FAIL", "DL", "DEADLINE",
                                       "OOM", "OUT_OF_MEMORY", "PR", "PREEMPTED", "RQ",
                                       "REQUEUED", "RS", "RESIZING", "RV", "REVOKED"};
  for (const char* s : kOther)
    if (ToUpper(name) == s) return true;
  return false;
}

Result<int64_t> ParseWhen(const std::string& text, int64_t now_ms) {
  auto t = ParseBeginTime(text, FromMillis(now_ms));
  if (!t.ok())
    return InvalidArgument("sacct: error: Invalid time specification (pos=0): " + text);
  int64_t ms = ToMillis(*t);
  // sacct reads times in the past (Slurm's parse_time with `past`): a time of day that is
  // later than now is today's, not tomorrow's.
  const std::string lower = ToLower(text);
  if (ms > now_ms && ms - now_ms <= 86'400'000 && lower.find("now") == std::string::npos &&
      lower.find("tomorrow") == std::string::npos)
    ms -= 86'400'000;
  return ms;
}

Result<AcctJobRef> ParseRef(const std::string& text) {
  AcctJobRef ref;
  std::string_view s = text;
  std::string_view step;
  if (size_t dot = s.find('.'); dot != std::string_view::npos) {
    step = s.substr(dot + 1);
    s = s.substr(0, dot);
    ref.step = std::string(step);
  }
  std::string_view index;
  if (size_t us = s.find('_'); us != std::string_view::npos) {
    index = s.substr(us + 1);
    s = s.substr(0, us);
    auto i = ParseDigits(index);
    if (!i) return InvalidArgument("sacct: fatal: Bad job array element specified: " + text);
    ref.array_index = *i;
  }
  auto id = ParseDigits(s);
  if (!id || *id <= 0) return InvalidArgument("sacct: fatal: Bad job/step specified: " + text);
  ref.job_id = *id;
  return ref;
}

}  // namespace

Result<SacctOptions> ParseSacctArgs(const std::vector<std::string>& args, int64_t now_ms) {
  SacctOptions o;
  const struct option longs[] = {
      {"allusers", no_argument, nullptr, 'a'},
      {"accounts", required_argument, nullptr, 'A'},
      {"allocations", no_argument, nullptr, 'X'},
      {"brief", no_argument, nullptr, 'b'},
      {"delimiter", required_argument, nullptr, kDelimiter},
      {"duplicates", no_argument, nullptr, 'D'},
      {"helpformat", no_argument, nullptr, 'e'},
      {"help-fields", no_argument, nullptr, 'e'},
      {"endtime", required_argument, nullptr, 'E'},
      {"help", no_argument, nullptr, 'h'},
      {"local", no_argument, nullptr, kLocal},
      {"name", required_argument, nullptr, kName},
      {"jobs", required_argument, nullptr, 'j'},
      {"long", no_argument, nullptr, 'l'},
      {"allclusters", no_argument, nullptr, 'L'},
      {"cluster", required_argument, nullptr, 'M'},
      {"clusters", required_argument, nullptr, 'M'},
      {"noconvert", no_argument, nullptr, kNoConvert},
      {"units", required_argument, nullptr, kUnits},
      {"noheader", no_argument, nullptr, 'n'},
      {"fields", required_argument, nullptr, 'o'},
      {"format", required_argument, nullptr, 'o'},
      {"parsable", no_argument, nullptr, 'p'},
      {"parsable2", no_argument, nullptr, 'P'},
      {"partition", required_argument, nullptr, 'r'},
      {"state", required_argument, nullptr, 's'},
      {"starttime", required_argument, nullptr, 'S'},
      {"truncate", no_argument, nullptr, 'T'},
      {"uid", required_argument, nullptr, 'u'},
      {"usage", no_argument, nullptr, 'U'},
      {"user", required_argument, nullptr, 'u'},
      {"verbose", no_argument, nullptr, 'v'},
      {"version", no_argument, nullptr, 'V'},
      {"json", no_argument, nullptr, kJson},
      {nullptr, 0, nullptr, 0}};
  std::vector<std::string> storage = {"sacct"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int argc = static_cast<int>(storage.size());
  optind = 0;
  opterr = 1;
  std::optional<std::string> start, end;
  for (;;) {
    int c = getopt_long(argc, argv.data(), "aA:bDeE:hj:lLM:no:pPr:s:S:Tu:UvVX", longs, nullptr);
    if (c == -1) break;
    switch (c) {
      case 'a': o.all_users = true; break;
      case 'A': break;  // accounts are labels; no filter
      case 'b': o.brief = true; break;
      case 'D': case 'L': case 'M': case 'T': case kLocal: case kNoConvert: case kUnits: break;
      case 'e': o.help_fields = true; break;
      case 'E': end = optarg; break;
      case 'h': case kHelp: o.help = true; break;
      case 'j':
        for (const auto& item : SplitNonEmpty(optarg, ',')) {
          auto ref = ParseRef(item);
          if (!ref.ok()) return ref.status();
          o.jobs.push_back(*ref);
        }
        break;
      case 'l': o.long_format = true; break;
      case 'n': o.no_header = true; break;
      case 'o': o.format = o.format ? *o.format + "," + optarg : std::string(optarg); break;
      case 'p': o.parsable = true; o.parsable2 = false; break;
      case 'P': o.parsable2 = true; o.parsable = false; break;
      case 'r': o.partitions = SplitNonEmpty(optarg, ','); break;
      case 's':
        for (const auto& name : SplitNonEmpty(optarg, ',')) {
          if (auto st = StateOf(name)) {
            o.states.insert(*st);
          } else if (!OtherSlurmState(name)) {
            return InvalidArgument("sacct: fatal: unrecognized job state value '" + name + "'");
          } else {
            o.states.insert(pb::JOB_STATE_UNSPECIFIED);  // matches nothing
          }
        }
        break;
      case 'S': start = optarg; break;
      case 'u': {
        std::string value = optarg;
        if (value == "-1") {
          o.all_users = true;
          break;
        }
        o.all_users = false;
        for (const auto& u : SplitNonEmpty(value, ',')) {
          if (auto n = ParseDigits(u)) {
            o.uids.push_back(static_cast<uint32_t>(*n));
            continue;
          }
          struct passwd pw, *found = nullptr;
          char buf[4096];
          if (getpwnam_r(u.c_str(), &pw, buf, sizeof buf, &found) != 0 || found == nullptr)
            return InvalidArgument("sacct: error: Invalid user id: " + u);
          o.uids.push_back(found->pw_uid);
        }
        break;
      }
      case 'U': o.usage = true; break;
      case 'v': break;
      case 'V': o.version = true; break;
      case 'X': o.allocations = true; break;
      case kJson: o.json = true; break;
      case kName: o.names = SplitNonEmpty(optarg, ','); break;
      case kDelimiter: o.delimiter = optarg; break;
      default: return InvalidArgument("");  // getopt said what is wrong
    }
  }
  if (optind < argc) {
    std::string text = "sacct: error: Unknown arguments:";
    for (int i = optind; i < argc; ++i)
      text += std::string("\nsacct: error:  ") + argv[static_cast<size_t>(i)];
    return InvalidArgument(text);
  }
  if (o.long_format && o.format)
    return InvalidArgument(
        "sacct: fatal: Options -o(--format) and -l(--long) are mutually exclusive. Please "
        "remove one and retry.");
  if (start) {
    auto ms = ParseWhen(*start, now_ms);
    if (!ms.ok()) return ms.status();
    o.start_ms = *ms;
  }
  if (end) {
    auto ms = ParseWhen(*end, now_ms);
    if (!ms.ok()) return ms.status();
    o.end_ms = *ms;
  }
  return o;
}

std::pair<int64_t, int64_t> AcctWindow(const SacctOptions& o, int64_t now_ms) {
  int64_t start = o.start_ms.value_or(0), end = o.end_ms.value_or(0);
  if (!o.states.empty()) {
    if (!o.start_ms && o.jobs.empty()) start = now_ms;
    if (start && !o.end_ms) end = start;
  } else if (o.jobs.empty()) {
    if (!o.start_ms) {
      time_t now = static_cast<time_t>(now_ms / 1000);
      struct tm tm;
      localtime_r(&now, &tm);
      tm.tm_sec = tm.tm_min = tm.tm_hour = 0;
      tm.tm_isdst = -1;
      start = static_cast<int64_t>(mktime(&tm)) * 1000;
    }
    if (!o.end_ms) end = now_ms;
  } else if (!o.end_ms) {
    end = now_ms;
  }
  return {start, end};
}

bool AcctSelected(const AcctRecord& r, const SacctOptions& o, int64_t start_ms, int64_t end_ms) {
  if (!o.jobs.empty()) {
    bool any = false;
    for (const auto& ref : o.jobs) {
      bool match;
      if (ref.array_index)
        match = r.array_job_id == ref.job_id && r.array_task_id == *ref.array_index;
      else
        match = r.raw_id == ref.job_id || (r.array_job_id == ref.job_id && r.array_job_id != 0);
      if (match && ref.step && r.step) match = r.step_name == *ref.step;
      any = any || match;
    }
    if (!any) return false;
  }
  if (!o.names.empty() && !r.step &&
      std::find(o.names.begin(), o.names.end(), r.name) == o.names.end())
    return false;
  if (!o.partitions.empty() && !r.step &&
      std::find(o.partitions.begin(), o.partitions.end(), r.partition) == o.partitions.end())
    return false;
  if (!o.states.empty() && !r.step) {
    if (!o.states.count(r.state)) return false;
    // In the window in that state: a terminal state by its end, running by its run.
    const int64_t from = r.state == pb::PENDING ? r.submit_ms : r.start_ms;
    const int64_t to = Terminal(r.state) ? r.end_ms : 0;
    if (Terminal(r.state)) {
      if (start_ms && to < start_ms) return false;
      if (end_ms && to > end_ms) return false;
    } else {
      if (end_ms && from > end_ms) return false;
    }
  } else if (o.jobs.empty() && !r.step) {
    // Slurm's window: eligible before its end, not ended before its start.
    if (end_ms && r.submit_ms > end_ms) return false;
    if (start_ms && r.end_ms != 0 && r.end_ms < start_ms) return false;
  }
  return true;
}

std::string AcctFormat(const SacctOptions& o, const char* env) {
  std::string list;
  if (o.format) list = *o.format;
  if (o.brief) list += (list.empty() ? "" : ",") + std::string(kBriefFields);
  if (o.long_format) list += (list.empty() ? "" : ",") + std::string(kLongFields);
  if (list.empty()) list = env && *env ? env : kDefaultFields;
  return list;
}

}  // namespace swell::cli::slurm
