// sacct: the head's job history (History, a page at a time) printed as Slurm's sacct prints
// its accounting database (sacct_view.h). docs/slurm.md lists what is supported.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli/cli.h"
#include "cli/sacct_view.h"
#include "cli/slurm_fields.h"
#include "common/clock.h"

namespace swell::cli {
namespace {

using namespace slurm;  // NOLINT: this file is a Slurm front end

constexpr char kUsage[] =
    "Usage: sacct [-a] [-b] [-D] [-E time] [-j job[.step][,...]] [-l] [-n] [-o fields] [-p|-P]\n"
    "             [-r partition] [-s state] [-S time] [-u user] [-X] [--json] [--name names]\n";

constexpr char kHelp[] =
    "sacct [<OPTION>]\n"
    "    Valid <OPTION> values are:\n"
    "     -a, --allusers:     Display jobs for all users.\n"
    "     -b, --brief:        Equivalent to '--format=jobid,state,exitcode'.\n"
    "     --delimiter:        ASCII characters used to separate the fields when\n"
    "                         specifying the -p or -P options.\n"
    "     -e, --helpformat:   Print a list of fields that can be specified with the\n"
    "                         '--format' option\n"
    "     -E, --endtime:      Select jobs eligible before this time.\n"
    "     -j, --jobs:         Format is <job(.step)>. Display information about this\n"
    "                         job or comma-separated list of jobs.\n"
    "     --json:             Produce JSON output\n"
    "     -l, --long:         Equivalent to specifying the long list of fields.\n"
    "     --name:             Display jobs that have any of these name(s).\n"
    "     -n, --noheader:     No header will be added to the beginning of output.\n"
    "     -o, --format:       Comma separated list of fields (use \"--helpformat\" for a\n"
    "                         list of available fields).\n"
    "     -p, --parsable:     Output will be '|' delimited with a '|' at the end.\n"
    "     -P, --parsable2:    Output will be '|' delimited without a '|' at the end.\n"
    "     -r, --partition:    Comma separated list of partitions to select jobs from.\n"
    "     -s, --state:        Select jobs based on their state during the time period\n"
    "                         given.\n"
    "     -S, --starttime:    Select jobs eligible after this time. Default is 00:00:00\n"
    "                         of the current day, unless '-s' or '-j' is set.\n"
    "     -u, --uid, --user:  Use this comma separated list of uids or user names to\n"
    "                         select jobs to display.\n"
    "     -X, --allocations:  Only show statistics relevant to the job allocation\n"
    "                         itself, not taking steps into consideration.\n";

void PrintFieldNames() {
  auto all = ParseAcctFields("ALL");
  if (!all.ok()) return;
  int col = 0;
  for (const auto& f : *all) {
    std::printf("%-20s", f.name.c_str());
    if (++col % 4 == 0) std::printf("\n");
  }
  if (col % 4 != 0) std::printf("\n");
}

}  // namespace

int Sacct(const Args& args) {
  const int64_t now_ms = ToMillis(SystemClock().Now());
  auto parsed = ParseSacctArgs(args, now_ms);
  if (!parsed.ok()) {
    if (!parsed.status().message().empty())
      std::fprintf(stderr, "%s\n", parsed.status().message().c_str());
    return 1;
  }
  SacctOptions o = *parsed;
  if (o.help || o.usage || o.version || o.help_fields) {
    if (o.help) std::fputs(kHelp, stdout);
    if (o.usage) std::fputs(kUsage, stdout);
    if (o.version) std::printf("%s\n", kSlurmVersion);
    if (o.help_fields) PrintFieldNames();
    return 0;
  }
  auto fields = ParseAcctFields(AcctFormat(o, std::getenv("SACCT_FORMAT")));
  if (!fields.ok()) {
    std::fprintf(stderr, "%s\n", fields.status().message().c_str());
    return 1;
  }
  // Slurm's users: those of -u; everyone with -a, -j, or for root; else the caller.
  std::vector<uint32_t> uids = o.uids;
  if (uids.empty() && !o.all_users && o.jobs.empty() && getuid() != 0) uids.push_back(getuid());
  if (o.all_users) uids.clear();
  auto [start_ms, end_ms] = AcctWindow(o, now_ms);
  if (end_ms && start_ms > end_ms) {
    std::fprintf(stderr, "sacct: error: Start time requested is after end time.\n");
    return 1;
  }

  pb::HistoryRequest req;
  for (const auto& ref : o.jobs) req.add_job_ids(ref.job_id);
  for (uint32_t u : uids) req.add_uids(u);
  // The head keeps whole jobs by their life (submitted by the end, not ended before the
  // start); the records are filtered here as Slurm filters them.
  if (o.jobs.empty() && o.states.empty()) {
    req.set_start_ms(start_ms);
    req.set_end_ms(end_ms);
  }
  auto client = Connect(Home());
  std::vector<pb::JobInfo> jobs;
  for (;;) {
    auto reply = client->History(req);
    if (!reply.ok()) {
      std::fprintf(stderr, "sacct: error: %s\n", ErrorText(reply.status()).c_str());
      return 1;
    }
    for (auto& j : *reply->mutable_jobs()) jobs.push_back(std::move(j));
    if (!reply->more()) break;
    req.set_after_id(reply->last_id());
  }
  std::vector<AcctRecord> records;
  bool job_selected = false;
  for (auto& r : AcctRecords(jobs, now_ms, o.allocations)) {
    // A step goes with its job.
    const bool keep = r.step ? job_selected && AcctSelected(r, o, start_ms, end_ms)
                             : (job_selected = AcctSelected(r, o, start_ms, end_ms));
    if (keep) records.push_back(std::move(r));
  }
  if (o.json) {
    std::printf("%s\n", AcctJson(records).dump(2).c_str());
    return 0;
  }
  std::string out;
  if (!o.no_header) out += AcctHeader(*fields, o);
  for (const auto& r : records) out += AcctLine(r, *fields, o);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace swell::cli
