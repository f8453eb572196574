#include "cli/submit_options.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

namespace swell::cli {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using Args = std::vector<std::string>;

const Time kNow = FromMillis(1'700'000'000'000);  // 2023-11-14T22:13:20Z

SubmitOptions Parse(const Args& args) {
  Result<SubmitOptions> r = ParseSubmitArgs(args, kNow);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : SubmitOptions{};
}

// The error message of parsing `args`, or "" when it parsed.
std::string Error(const Args& args) {
  Result<SubmitOptions> r = ParseSubmitArgs(args, kNow);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  return r.status().message();
}

// Splits `text` at single spaces (test shorthand for an argument vector).
Args Words(std::string_view text) {
  Args words;
  size_t start = 0;
  for (size_t end; (end = text.find(' ', start)) != std::string_view::npos; start = end + 1) {
    words.emplace_back(text.substr(start, end - start));
  }
  words.emplace_back(text.substr(start));
  return words;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- Command line forms ------------------------------------------------------------------------

TEST(ParseSubmitArgsTest, LongShortAndEqualsForms) {
  EXPECT_EQ(Parse({"--job-name=a"}).job_name, "a");
  EXPECT_EQ(Parse({"--job-name", "b"}).job_name, "b");
  EXPECT_EQ(Parse({"-J", "c"}).job_name, "c");
  EXPECT_EQ(Parse({"-Jd"}).job_name, "d");
  EXPECT_EQ(Parse({"-J", "-x"}).job_name, "-x");  // a required value may start with '-'
  EXPECT_EQ(Parse({"--job-name=x=y"}).job_name, "x=y");
  EXPECT_EQ(Parse({"-n4"}).ntasks, 4);
  EXPECT_EQ(Parse({"--ntasks", "4"}).ntasks, 4);
  EXPECT_EQ(Parse({"-t", "1:00:00"}).time_limit, hours(1));
}

TEST(ParseSubmitArgsTest, EveryOption) {
  SubmitOptions o = Parse(
      Words("-J job -n 8 -c 2 -N 2-4 --mem=2G -t 90 -o o-%j.out -e e-%j.err -i in.txt -a 1-3%2 "
            "-d afterok:5:6_1 -D /tmp/w --export=ALL,A=1 --requeue -G a100:2 -b now+1hour -p batch "
            "--nice=5 --comment hello -H -Q --parsable -W run.sh"));
  EXPECT_EQ(o.job_name, "job");
  EXPECT_EQ(o.ntasks, 8);
  EXPECT_EQ(o.cpus_per_task, 2);
  EXPECT_EQ(o.nodes_min, 2);
  EXPECT_EQ(o.nodes_max, 4);
  EXPECT_EQ(o.mem_mb, 2048);
  EXPECT_EQ(o.time_limit, minutes(90));
  EXPECT_EQ(o.output, "o-%j.out");
  EXPECT_EQ(o.error, "e-%j.err");
  EXPECT_EQ(o.input, "in.txt");
  ASSERT_TRUE(o.array.has_value());
  EXPECT_EQ(o.array->indices, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(o.array->max_running, 2);
  EXPECT_EQ(o.array_text, "1-3%2");
  ASSERT_TRUE(o.dependency.has_value());
  EXPECT_EQ(o.dependency->terms, (std::vector<DependencyTerm>{{"afterok", {"5", "6_1"}}}));
  EXPECT_EQ(o.chdir, "/tmp/w");
  EXPECT_EQ(o.export_spec, "ALL,A=1");
  EXPECT_TRUE(o.requeue);
  EXPECT_FALSE(o.no_requeue);
  EXPECT_EQ(o.gpus, 2);
  EXPECT_EQ(o.begin_text, "now+1hour");
  EXPECT_EQ(o.begin, kNow + hours(1));
  EXPECT_EQ(o.partition, "batch");
  EXPECT_EQ(o.nice, 5);
  EXPECT_EQ(o.comment, "hello");
  EXPECT_TRUE(o.hold);
  EXPECT_TRUE(o.quiet);
  EXPECT_TRUE(o.parsable);
  EXPECT_TRUE(o.wait);
  EXPECT_FALSE(o.help);
  EXPECT_EQ(o.positional, (Args{"run.sh"}));
  EXPECT_FALSE(o.wrap.has_value());
}

TEST(ParseSubmitArgsTest, NothingSetByDefault) {
  EXPECT_EQ(Parse({}), SubmitOptions{});
  SubmitOptions o = Parse({"job.sh"});
  EXPECT_FALSE(o.job_name || o.ntasks || o.time_limit || o.array || o.begin);
  EXPECT_FALSE(o.requeue || o.no_requeue || o.hold || o.quiet || o.parsable || o.wait);
}

TEST(ParseSubmitArgsTest, PositionalPassThrough) {
  SubmitOptions o = Parse({"-J", "x", "job.sh", "-n", "5", "--time=bogus", "--", "-J"});
  EXPECT_EQ(o.positional, (Args{"job.sh", "-n", "5", "--time=bogus", "--", "-J"}));
  EXPECT_FALSE(o.ntasks.has_value());
  EXPECT_FALSE(o.time_limit.has_value());
  EXPECT_EQ(o.job_name, "x");

  EXPECT_EQ(Parse({"--", "-weird-name.sh", "a"}).positional, (Args{"-weird-name.sh", "a"}));
  EXPECT_EQ(Parse({"-"}).positional, (Args{"-"}));  // "-" is a positional (stdin)
}

TEST(ParseSubmitArgsTest, BundledShortFlags) {
  SubmitOptions o = Parse({"-HQW"});
  EXPECT_TRUE(o.hold && o.quiet && o.wait);
  SubmitOptions v = Parse({"-HJname", "-Qn", "3"});
  EXPECT_TRUE(v.hold);
  EXPECT_EQ(v.job_name, "name");
  EXPECT_TRUE(v.quiet);
  EXPECT_EQ(v.ntasks, 3);
}

TEST(ParseSubmitArgsTest, LongOptionPrefixes) {
  EXPECT_EQ(Parse({"--job=x"}).job_name, "x");
  EXPECT_EQ(Error({"--ti", "5"}), "option '--ti' is ambiguous; possibilities: '--time' '--time-min'");
  EXPECT_EQ(Parse({"--mem=5"}).mem_mb, 5);  // exact match wins
  EXPECT_EQ(Parse({"--tasks=2"}).ntasks_per_node, 2);  // --tasks-per-node
  std::string e = Error({"--c=1"});
  EXPECT_TRUE(e.starts_with("option '--c=1' is ambiguous; possibilities: '--chdir'")) << e;
  EXPECT_TRUE(Contains(e, " '--comment'")) << e;
  EXPECT_TRUE(Contains(Error({"--par"}), "ambiguous")) << Error({"--par"});
  // An alias and its option are one option to getopt_long.
  Result<SubmitOptions> bind = ParseSubmitArgs({"--cpu_b=cores", "--cpu-b=none"}, kNow, kSrun);
  ASSERT_TRUE(bind.ok()) << bind.status().ToString();
  EXPECT_EQ(bind->cpu_bind, "none");
}

TEST(ParseSubmitArgsTest, LastValueWins) {
  EXPECT_EQ(Parse({"-J", "a", "--job-name=b"}).job_name, "b");
  SubmitOptions o = Parse({"--requeue", "--no-requeue"});
  EXPECT_FALSE(o.requeue);
  EXPECT_TRUE(o.no_requeue);
  o = Parse({"--no-requeue", "--requeue"});
  EXPECT_TRUE(o.requeue);
  EXPECT_FALSE(o.no_requeue);
}

TEST(ParseSubmitArgsTest, NiceOptionalValue) {
  EXPECT_EQ(Parse({"--nice"}).nice, 100);
  EXPECT_EQ(Parse({"--nice=-5"}).nice, -5);
  // As with getopt_long, a separate word is not the optional value: it is the script.
  SubmitOptions o = Parse({"--nice", "job.sh"});
  EXPECT_EQ(o.nice, 100);
  EXPECT_EQ(o.positional, (Args{"job.sh"}));
}

TEST(ParseSubmitArgsTest, NodesAndGpus) {
  SubmitOptions one = Parse({"-N", "3"});
  EXPECT_EQ(one.nodes_min, 3);
  EXPECT_EQ(one.nodes_max, 3);
  EXPECT_EQ(Parse({"--gpus=4"}).gpus, 4);
  EXPECT_EQ(Parse({"--gpus=0"}).gpus, 0);
  EXPECT_EQ(Parse({"--gpus=v100:1"}).gpus, 1);
  EXPECT_EQ(Parse({"--gres=gpu:2"}).gpus_per_node, 2);
  EXPECT_EQ(Parse({"--gpus-per-node=a100:4"}).gpus_per_node, 4);
  EXPECT_EQ(Parse({"--gpus-per-task=1"}).gpus_per_task, 1);
  EXPECT_EQ(Parse({"--cpus-per-gpu=8"}).cpus_per_gpu, 8);
  EXPECT_EQ(Parse({"--mem-per-cpu=2G"}).mem_per_cpu_mb, 2048);
  EXPECT_EQ(Parse({"--mem-per-gpu=10G"}).mem_per_gpu_mb, 10240);
  EXPECT_EQ(Parse({"--tasks-per-node=3"}).ntasks_per_node, 3);
}

TEST(ParseSubmitArgsTest, TimeAndBeginForms) {
  EXPECT_EQ(Parse({"--time=UNLIMITED"}).time_limit, kInfinite);
  EXPECT_EQ(Parse({"-t", "0"}).time_limit, kInfinite);  // Slurm: no limit
  EXPECT_EQ(Parse({"-t", "1-00:00:00"}).time_limit, hours(24));
  EXPECT_EQ(Parse({"-t", "00-24:00"}).time_limit, hours(24));
  EXPECT_EQ(Parse({"-t", "2-12"}).time_limit, hours(60));
  EXPECT_EQ(Parse({"--time-min=30"}).time_min, minutes(30));
  EXPECT_EQ(Parse({"--begin=now"}).begin, kNow);
  EXPECT_EQ(Parse({"--begin", "now+60"}).begin, kNow + seconds(60));
  EXPECT_EQ(Parse({"--deadline=now+1hour"}).deadline, kNow + hours(1));
}

TEST(ParseSubmitArgsTest, RecordedOptions) {
  SubmitOptions o = Parse(Words(
      "-A proj -q high --wckey=wk -C ssd&avx --mail-type=BEGIN,END --mail-user=me@x "
      "--signal=B:USR1@120 --open-mode=append --kill-on-invalid-dep=yes --hint=nomultithread "
      "-m block:cyclic --test-only -L lic --reservation=r job.sh"));
  EXPECT_EQ(o.account, "proj");
  EXPECT_EQ(o.qos, "high");
  EXPECT_EQ(o.wckey, "wk");
  EXPECT_EQ(o.constraint, "ssd&avx");
  EXPECT_EQ(o.mail_type, "BEGIN,END");
  EXPECT_EQ(o.mail_user, "me@x");
  ASSERT_TRUE(o.signal.has_value());
  EXPECT_EQ(o.signal->seconds, 120);
  EXPECT_TRUE(o.signal->batch_only);
  EXPECT_EQ(o.open_mode, "append");
  EXPECT_EQ(o.kill_on_invalid_dep, true);
  EXPECT_EQ(o.hint, "nomultithread");
  EXPECT_EQ(o.distribution, "block:cyclic");
  EXPECT_TRUE(o.test_only);
  EXPECT_EQ(o.licenses, "lic");
  EXPECT_EQ(o.reservation, "r");
  EXPECT_EQ(o.positional, (Args{"job.sh"}));
}

TEST(ParseSubmitArgsTest, IgnoredOptionsAreAcceptedAndListed) {
  SubmitOptions o = Parse(Words("--mincpus=4 -O --tmp=10G -S 1 --exclusive=oversubscribe -k "
                                "--acctg-freq=task=30 --get-user-env job.sh"));
  EXPECT_EQ(o.ignored, (std::vector<std::string>{"--mincpus=4", "--overcommit", "--tmp=10G",
                                                 "--core-spec=1", "--no-kill",
                                                 "--acctg-freq=task=30", "--get-user-env"}));
  EXPECT_FALSE(o.exclusive);
  EXPECT_EQ(o.positional, (Args{"job.sh"}));
}

TEST(ParseSubmitArgsTest, EveryCatalogOptionIsKnownToItsCommands) {
  // Every option the catalog gives a command parses there (with a value its handler takes)
  // and is unknown to the commands that do not take it.
  for (const CatalogOption& def : SlurmOptionCatalog()) {
    for (JobCommand cmd : {kSbatch, kSalloc, kSrun}) {
      std::string word = "--" + std::string(def.name);
      if (def.arg == ArgKind::kRequired) word += "=1";
      Result<SubmitOptions> r = ParseSubmitArgs({word}, kNow, cmd);
      std::string m = r.ok() ? "" : r.status().message();
      bool prefix_of_another = false;
      for (const CatalogOption& other : SlurmOptionCatalog())
        prefix_of_another |= (other.commands & cmd) && &other != &def &&
                             other.name.starts_with(def.name);
      if (!(def.commands & cmd)) {
        if (prefix_of_another) continue;  // getopt_long takes it as that option
        EXPECT_TRUE(m.starts_with("unrecognized option") || Contains(m, "ambiguous")) << word << ": " << m;
        continue;
      }
      EXPECT_FALSE(m.starts_with("unrecognized option") || Contains(m, "has no setter"))
          << word << " for " << CommandName(cmd) << ": " << m;
    }
  }
}

TEST(ParseSubmitArgsTest, CommandsDifferWhereSlurmsDo) {
  // -W: sbatch's --wait; srun's --wait=SECS (accepted and ignored).
  EXPECT_TRUE(Parse({"-W"}).wait);
  Result<SubmitOptions> r = ParseSubmitArgs({"-W", "30", "hostname"}, kNow, kSrun);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->wait);
  EXPECT_EQ(r->positional, (Args{"hostname"}));
  // -l and -K are srun's; --array, --parsable and --wrap sbatch's.
  EXPECT_TRUE(ParseSubmitArgs({"-l", "-K"}, kNow, kSrun)->label);
  EXPECT_EQ(Error({"-l"}), "invalid option -- 'l'");
  EXPECT_EQ(ParseSubmitArgs({"--array=1-2"}, kNow, kSalloc).status().message(),
            "unrecognized option '--array=1-2'");
  // --workdir is not an option of Slurm 22.05-24.05.
  EXPECT_EQ(Error({"--workdir=/tmp"}), "unrecognized option '--workdir=/tmp'");
}

TEST(ParseSubmitArgsTest, Help) {
  EXPECT_TRUE(Parse({"--help"}).help);
  EXPECT_TRUE(Parse({"-h"}).help);
  EXPECT_TRUE(Parse({"--usage"}).usage);
  EXPECT_TRUE(Parse({"-V"}).version);
  std::string usage = SubmitUsage();
  EXPECT_TRUE(Contains(usage, "-J, --job-name=NAME")) << usage;
  EXPECT_TRUE(Contains(usage, "--nice[=N]")) << usage;
  EXPECT_TRUE(Contains(usage, " --mincpus")) << usage;  // in the list of ignored options
  EXPECT_FALSE(Contains(SubmitUsage(kSalloc), "--wrap")) << usage;
}

// ---- Validation errors -------------------------------------------------------------------------

TEST(ParseSubmitArgsValidationTest, GetoptMessages) {
  EXPECT_EQ(Error({"--foo"}), "unrecognized option '--foo'");
  EXPECT_EQ(Error({"--foo=1"}), "unrecognized option '--foo=1'");
  EXPECT_EQ(Error({"-z"}), "invalid option -- 'z'");
  EXPECT_EQ(Error({"-Hz"}), "invalid option -- 'z'");
  EXPECT_EQ(Error({"--hold=yes"}), "option '--hold' doesn't allow an argument");
  EXPECT_EQ(Error({"--time"}), "option '--time' requires an argument");
  EXPECT_EQ(Error({"-t"}), "option requires an argument -- 't'");
}

TEST(ParseSubmitArgsValidationTest, Counts) {
  EXPECT_EQ(Error({"-n", "0"}), "error: Invalid numeric value \"0\" for --ntasks.");
  EXPECT_EQ(Error({"-n", "-2"}), "error: Invalid numeric value \"-2\" for --ntasks.");
  EXPECT_EQ(Error({"-n", "abc"}), "error: Invalid numeric value \"abc\" for --ntasks.");
  EXPECT_EQ(Error({"-n", "3x"}), "error: Invalid numeric value \"3x\" for --ntasks.");
  EXPECT_EQ(Parse({"-n", "+3"}).ntasks, 3);  // strtol takes a sign
  EXPECT_EQ(Error({"-c", "0"}), "error: Invalid numeric value \"0\" for --cpus-per-task.");
  EXPECT_EQ(Error({"--ntasks="}), "error: Invalid numeric value \"\" for --ntasks.");
  EXPECT_EQ(Error({"-N", "0"}), "refused: Node count specification invalid");
  EXPECT_EQ(Error({"-N", "4-2"}), "error: Maximum node count 2 is less than minimum node count 4");
  EXPECT_EQ(Error({"-N", "2-x"}), "error: \"x\" is not a valid node count");
  EXPECT_EQ(Error({"--gpus=-1"}), "refused: Invalid generic resource (gres) specification");
  EXPECT_EQ(Error({"--gpus=:2"}), "refused: Invalid generic resource (gres) specification");
  EXPECT_EQ(Error({"--nice=99999999999"}), "error: Invalid --nice value, out of range (+/- 2147483645)");
  EXPECT_EQ(Parse({"--nice=abc"}).nice, 0);  // strtoll, as Slurm
}

TEST(ParseSubmitArgsValidationTest, ValueFormats) {
  EXPECT_EQ(Error({"--time=1:xx"}), "error: Invalid --time specification");
  EXPECT_EQ(Error({"--time-min=x"}), "error: Invalid --time-min specification");
  EXPECT_EQ(Error({"--mem=1.5G"}), "error: Invalid --mem specification");
  EXPECT_EQ(Error({"--mem-per-cpu=-1"}), "error: Invalid --mem-per-cpu specification");
  EXPECT_EQ(Error({"--array=5-3"}), "refused: Invalid job array specification");
  EXPECT_EQ(Error({"--begin=someday"}), "error: Invalid --begin specification");
  EXPECT_EQ(Error({"--deadline=someday"}), "error: Invalid --deadline specification");
  EXPECT_EQ(Error({"--signal=NOPE"}), "error: Invalid --signal specification");
  EXPECT_EQ(Error({"--open-mode=x"}), "error: Invalid --open-mode specification");
  EXPECT_EQ(Error({"--mail-type=x"}), "error: Invalid --mail-type specification");
  EXPECT_EQ(Error({"--kill-on-invalid-dep=maybe"}),
            "error: Invalid --kill-on-invalid-dep specification");
  EXPECT_EQ(Error({"--exclusive=x"}), "error: Invalid --exclusive specification");
  EXPECT_EQ(Error({"-C", "a b"}), "refused: Invalid feature specification");
  EXPECT_EQ(Error({"--dependency=bogus:1"}), "refused: Job dependency problem");
  EXPECT_TRUE(Contains(Error({"--export=1BAD"}), "'1BAD' is not a variable name"));
  EXPECT_EQ(Error({"--mem=1G", "--mem-per-cpu=1G"}),
            "fatal: --mem, --mem-per-cpu, and --mem-per-gpu are mutually exclusive.");
  EXPECT_EQ(Error({"--begin=now+1hour", "--deadline=now"}),
            "error: Incompatible begin and deadline time specification");
}

TEST(ParseSubmitArgsValidationTest, EmptyStringsAsSlurmKeepsThem) {
  EXPECT_EQ(Parse({"--job-name="}).job_name, "");
  EXPECT_EQ(Parse({"-J", ""}).job_name, "");
  EXPECT_EQ(Parse({"--comment="}).comment, "");
  EXPECT_EQ(Error({"--time="}), "error: Invalid --time specification");
  EXPECT_EQ(Error({"--mem="}), "error: Invalid --mem specification");
}

TEST(ParseSubmitArgsValidationTest, WrapWithScript) {
  EXPECT_EQ(Parse({"--wrap", "echo hi"}).wrap, "echo hi");
  EXPECT_EQ(Error({"--wrap=echo hi", "job.sh"}),
            "error: Script arguments not permitted with --wrap option");
}

TEST(RenderOptionErrorTest, SlurmsLinesAndExitCodes) {
  int code = 0;
  EXPECT_EQ(RenderOptionError(InvalidArgument("unrecognized option '--foo'"), kSbatch, &code),
            "sbatch: unrecognized option '--foo'\nTry \"sbatch --help\" for more information\n");
  EXPECT_EQ(code, 255);
  EXPECT_EQ(RenderOptionError(InvalidArgument("error: Invalid --time specification"), kSrun, &code),
            "srun: error: Invalid --time specification\n");
  EXPECT_EQ(code, 255);
  EXPECT_EQ(RenderOptionError(InvalidArgument("error: Invalid numeric value \"0\" for --ntasks."),
                              kSbatch, &code),
            "sbatch: error: Invalid numeric value \"0\" for --ntasks.\n");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(RenderOptionError(InvalidArgument("refused: Invalid feature specification"), kSalloc,
                              &code),
            "salloc: error: Job submit/allocate failed: Invalid feature specification\n");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(OptionErrorMessage(InvalidArgument("error: Invalid --time specification")),
            "Invalid --time specification");
}

// ---- Dependencies ------------------------------------------------------------------------------

TEST(ParseDependencyTest, Forms) {
  Result<Dependency> all = ParseDependency("afterok:1:2,afternotok:3,after:4,afterany:5_7");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_FALSE(all->any);
  EXPECT_EQ(all->terms, (std::vector<DependencyTerm>{{"afterok", {"1", "2"}},
                                                     {"afternotok", {"3"}},
                                                     {"after", {"4"}},
                                                     {"afterany", {"5_7"}}}));
  Result<Dependency> any = ParseDependency("AfterOK:1?singleton");
  ASSERT_TRUE(any.ok()) << any.status().ToString();
  EXPECT_TRUE(any->any);
  EXPECT_EQ(any->terms, (std::vector<DependencyTerm>{{"afterok", {"1"}}, {"singleton", {}}}));
  Result<Dependency> bare = ParseDependency("42");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->terms, (std::vector<DependencyTerm>{{"afterany", {"42"}}}));
}

TEST(ParseDependencyTest, Rejects) {
  struct Case {
    const char* text;
    const char* expect;
  };
  for (const Case& c : std::vector<Case>{
           {"", "empty value"},
           {"afterok", "needs at least one job id"},
           {"afterok:", "empty job id"},
           {"afterok:1:", "empty job id"},
           {"afterok:abc", "'abc' is not a job id"},
           {"afterok:0", "'0' is not a job id"},
           {"afterok:1_", "'1_' is not a job id"},
           {"afterok:-1", "'-1' is not a job id"},
           {"before:1", "unknown type 'before'"},
           {"aftercorr:1", "'aftercorr' is not supported"},
           {"after:1+5", "delays such as '1+5' are not supported"},
           {"singleton:1", "takes no job ids"},
           {"afterok:1,afterany:2?afterok:3", "cannot mix"},
           {"afterok:1,", "empty term"},
           {"?afterok:1", "empty term"},
       }) {
    Result<Dependency> r = ParseDependency(c.text);
    ASSERT_FALSE(r.ok()) << "'" << c.text << "' was accepted";
    EXPECT_TRUE(Contains(r.status().message(), c.expect)) << r.status().message();
    EXPECT_TRUE(Contains(r.status().message(), "'" + std::string(c.text) + "'"));
  }
  EXPECT_EQ(Error({"-d", "afterok:x"}), "refused: Job dependency problem");
}

TEST(ValidateExportSpecTest, Forms) {
  for (const char* ok : {"ALL", "all", "NONE", "NIL", "A", "ALL,A=1,B", "A=,_B2=x y", "A=a=b"}) {
    EXPECT_TRUE(ValidateExportSpec(ok).ok()) << ok;
  }
  for (const char* bad : {"", ",", "A,", "NONE,ALL", "NIL,A", "=1", "A-B=1", "2A"}) {
    EXPECT_FALSE(ValidateExportSpec(bad).ok()) << bad;
  }
}

// ---- Directives --------------------------------------------------------------------------------

std::vector<DirectiveToken> Extract(std::string_view script) {
  Result<std::vector<DirectiveToken>> r = ExtractDirectives(script, "job.sh");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<DirectiveToken>{};
}

TEST(ExtractDirectivesTest, StopsAtFirstCommand) {
  std::vector<DirectiveToken> tokens = Extract(
      "#!/bin/bash\n"
      "#SBATCH -J first\n"
      "\n"
      "# an ordinary comment\n"
      "   # an indented comment\n"
      "#SWELL --time=5\n"
      "echo hello\n"
      "#SBATCH -n 99\n");
  EXPECT_EQ(tokens, (std::vector<DirectiveToken>{{"-J", 2}, {"first", 2}, {"--time=5", 6}}));
}

TEST(ExtractDirectivesTest, PrefixRules) {
  EXPECT_EQ(Extract("#SBATCH\n#SBATCHX -n 1\n# SBATCH -n 2\n #SBATCH -n 3\n#sbatch -n 4\n"),
            std::vector<DirectiveToken>{});
  EXPECT_EQ(Extract("#SWELL\t-n\t2\r\n"), (std::vector<DirectiveToken>{{"-n", 1}, {"2", 1}}));
  EXPECT_EQ(Extract(""), std::vector<DirectiveToken>{});
  EXPECT_EQ(Extract("echo hi\n#SBATCH -n 1\n"), std::vector<DirectiveToken>{});
}

TEST(ExtractDirectivesTest, QuotesEscapesAndComments) {
  std::vector<DirectiveToken> tokens = Extract(
      "#SBATCH --job-name=\"my job\" --comment 'a # b'   # trailing comment\n"
      "#SBATCH -o out\\ file#1.log --wrap=\"say \\\"hi\\\" \\n\"\n"
      "#SBATCH --export=A='x y'\"z\"\n");
  EXPECT_EQ(tokens, (std::vector<DirectiveToken>{{"--job-name=my job", 1},
                                                 {"--comment", 1},
                                                 {"a # b", 1},
                                                 {"-o", 2},
                                                 {"out file#1.log", 2},
                                                 {"--wrap=say \"hi\" \\n", 2},
                                                 {"--export=A=x yz", 3}}));
}

TEST(ExtractDirectivesTest, UnterminatedQuote) {
  Result<std::vector<DirectiveToken>> r =
      ExtractDirectives("#!/bin/sh\n#SBATCH -J ok\n#SBATCH -J \"broken\n", "job.sh");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "job.sh:3: unterminated \" quote in directive");
  EXPECT_FALSE(ExtractDirectives("#SBATCH -J 'x\n").ok());
}

// ---- Merging -----------------------------------------------------------------------------------

Result<SubmitOptions> MergeScript(std::string_view script, const Args& cli_args) {
  Result<std::vector<DirectiveToken>> tokens = ExtractDirectives(script, "job.sh");
  if (!tokens.ok()) return tokens.status();
  Result<SubmitOptions> cli = ParseSubmitArgs(cli_args, kNow);
  if (!cli.ok()) return cli.status();
  return MergeDirectives(*tokens, *cli, "job.sh", kNow);
}

// The error message of MergeScript, or "" when it merged.
std::string MergeError(std::string_view script, const Args& cli_args) {
  Result<SubmitOptions> r = MergeScript(script, cli_args);
  return r.ok() ? "" : r.status().message();
}

TEST(MergeDirectivesTest, CommandLineOverridesDirectives) {
  Result<SubmitOptions> r = MergeScript(
      "#!/bin/bash\n"
      "#SBATCH -J from_script -n 2 --time=10\n"
      "#SBATCH --array=1-4 -N 2-3 --begin=now+60\n"
      "#SBATCH --requeue -H\n"
      "#SBATCH -n 3\n"
      "srun hostname\n",
      {"-J", "from_cli", "--array=7", "--no-requeue", "-Q", "job.sh", "arg1"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->job_name, "from_cli");     // command line wins
  EXPECT_EQ(r->ntasks, 3);                // later directive wins
  EXPECT_EQ(r->time_limit, minutes(10));  // directive only
  EXPECT_EQ(r->array_text, "7");          // spec and text move together
  EXPECT_EQ(r->array->indices, (std::vector<int64_t>{7}));
  EXPECT_EQ(r->nodes_min, 2);
  EXPECT_EQ(r->nodes_max, 3);
  EXPECT_EQ(r->begin, kNow + seconds(60));
  EXPECT_FALSE(r->requeue);  // the command line's choice
  EXPECT_TRUE(r->no_requeue);
  EXPECT_TRUE(r->hold);  // flags from either side stay set
  EXPECT_TRUE(r->quiet);
  EXPECT_EQ(r->positional, (Args{"job.sh", "arg1"}));
}

TEST(MergeDirectivesTest, EveryCommandLineOptionOverrides) {
  const Args cli_args = Words(
      "-J c -n 2 -c 3 -N 4 --mem=5 -t 6 -o o -e e -i i -a 8 -d afterok:9 -D d --export=NONE "
      "-G 1 -b now+10 -p p --nice=11 --comment=c --requeue job.sh");
  Result<SubmitOptions> r = MergeScript(
      "#SBATCH -J s -n 20 -c 30 -N 40 --mem=50 -t 60 -o so -e se -i si -a 80 -d afterany:90\n"
      "#SBATCH -D sd --export=ALL -G 10 -b now+100 -p sp --nice=110 --comment=sc --no-requeue\n",
      cli_args);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Parse(cli_args));
}

TEST(MergeDirectivesTest, NoCommandLineOptions) {
  Result<SubmitOptions> r = MergeScript("#SBATCH --parsable -W\n", {"job.sh"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->parsable);
  EXPECT_TRUE(r->wait);
  EXPECT_EQ(MergeDirectives({}, Parse({"-J", "x", "a.sh"}), "a.sh", kNow).value(),
            Parse({"-J", "x", "a.sh"}));
}

TEST(MergeDirectivesTest, ErrorsAreSlurms) {
  EXPECT_EQ(MergeError("#!/bin/bash\n"
                       "#SBATCH -J ok\n"
                       "#SBATCH --time=1:xx\n",
                       {"job.sh"}),
            "error: Invalid --time specification");
  EXPECT_EQ(MergeError("#SBATCH -n 2\n\n#SBATCH --bogus\n", {"job.sh"}),
            "unrecognized option '--bogus'");
  EXPECT_EQ(MergeError("#SBATCH --job-name=my job\n", {"job.sh"}),
            "error: Invalid directive found in batch script: job");
  // An option whose value is on the next directive line, as sbatch allows.
  EXPECT_EQ(MergeError("#SBATCH -n\n#SBATCH zero\n", {"job.sh"}),
            "error: Invalid numeric value \"zero\" for --ntasks.");
  EXPECT_EQ(MergeError("#SBATCH --wrap=true\n", {"job.sh"}),
            "error: Script arguments not permitted with --wrap option");
  // Directives and the command line together: --mem and --mem-per-cpu exclude each other.
  std::string both = MergeError("#SBATCH --mem=1G\n", {"--mem-per-cpu=1G", "job.sh"});
  EXPECT_TRUE(both.starts_with("fatal: --mem, --mem-per-cpu")) << both;
}

TEST(MergeDirectivesTest, BadCommandLineDoesNotReachMerge) {
  EXPECT_EQ(MergeError("#SBATCH -n 1\n", {"-n", "0", "job.sh"}),
            "error: Invalid numeric value \"0\" for --ntasks.");
}

TEST(MergeDirectivesTest, RealScriptOptions) {
  // Options of the real scripts swell refused before it knew every option.
  Result<SubmitOptions> r = MergeScript(
      "#!/bin/bash\n"
      "#SBATCH --account=abc123 --qos=normal\n"
      "#SBATCH --mail-type=ALL --mail-user=someone@example.org\n"
      "#SBATCH --mem-per-cpu=4G --tasks-per-node=2 --gpus-per-node=1\n"
      "#SBATCH -t 00-24:00 --job-name= --open-mode=append --signal=B:USR1@60\n"
      "#SBATCH --gres=gpu:1 --constraint=ssd --licenses=x\n"
      "srun ./a.out\n",
      {"job.sh"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->account, "abc123");
  EXPECT_EQ(r->time_limit, hours(24));
  EXPECT_EQ(r->job_name, "");
  EXPECT_EQ(r->ntasks_per_node, 2);
}

TEST(MergeDirectivesTest, IssueExampleScript) {
  constexpr std::string_view kScript =
      "#!/bin/bash\n"
      "#SBATCH -J sweep\n"
      "#SBATCH --array=1-100%10\n"
      "#SBATCH --time=00:05:00\n"
      "#SBATCH --mem=100M\n"
      "#SBATCH -o out/%x-%A_%a.out\n"
      "echo task $SLURM_ARRAY_TASK_ID\n";
  Result<std::vector<DirectiveToken>> tokens = ExtractDirectives(kScript, "sweep.sh");
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  EXPECT_EQ(tokens->size(), 7u);
  EXPECT_EQ(tokens->back(), (DirectiveToken{"out/%x-%A_%a.out", 6}));

  Result<SubmitOptions> r = MergeDirectives(*tokens, Parse({"sweep.sh"}), "sweep.sh", kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->job_name, "sweep");
  ASSERT_TRUE(r->array.has_value());
  EXPECT_EQ(r->array->indices.size(), 100u);
  EXPECT_EQ(r->array->indices.front(), 1);
  EXPECT_EQ(r->array->indices.back(), 100);
  EXPECT_EQ(r->array->max_running, 10);
  EXPECT_EQ(r->array_text, "1-100%10");
  EXPECT_EQ(r->time_limit, minutes(5));
  EXPECT_EQ(r->mem_mb, 100);
  EXPECT_EQ(r->output, "out/%x-%A_%a.out");
  EXPECT_EQ(r->positional, (Args{"sweep.sh"}));

  PatternFields fields;
  fields.job_id = 1010;
  fields.array_job_id = 1000;
  fields.array_task_id = 10;
  fields.job_name = *r->job_name;
  EXPECT_EQ(ExpandPattern(*r->output, fields), "out/sweep-1000_10.out");
}

}  // namespace
}  // namespace swell::cli
