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
  EXPECT_EQ(Parse({"--ti", "5"}).time_limit, minutes(5));
  EXPECT_EQ(Parse({"--mem=5"}).mem_mb, 5);  // exact match wins
  std::string e = Error({"--c=1"});
  EXPECT_TRUE(Contains(e, "ambiguous option '--c'")) << e;
  EXPECT_TRUE(Contains(e, "--chdir, --comment, --cpus-per-task")) << e;
  EXPECT_TRUE(Contains(Error({"--par"}), "ambiguous")) << Error({"--par"});
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
}

TEST(ParseSubmitArgsTest, TimeAndBeginForms) {
  EXPECT_EQ(Parse({"--time=UNLIMITED"}).time_limit, kInfinite);
  EXPECT_EQ(Parse({"-t", "1-00:00:00"}).time_limit, hours(24));
  EXPECT_EQ(Parse({"--begin=now"}).begin, kNow);
  EXPECT_EQ(Parse({"--begin", "now+60"}).begin, kNow + seconds(60));
}

TEST(ParseSubmitArgsTest, Help) {
  EXPECT_TRUE(Parse({"--help"}).help);
  EXPECT_TRUE(Parse({"-h"}).help);
  std::string usage = SubmitUsage();
  EXPECT_TRUE(Contains(usage, "-J, --job-name=NAME")) << usage;
  EXPECT_TRUE(Contains(usage, "--nice[=N]")) << usage;
}

// ---- Validation errors -------------------------------------------------------------------------

TEST(ParseSubmitArgsValidationTest, UnknownAndMalformedOptions) {
  EXPECT_EQ(Error({"--foo"}), "unknown option '--foo'");
  EXPECT_EQ(Error({"--foo=1"}), "unknown option '--foo'");
  EXPECT_EQ(Error({"-z"}), "unknown option '-z'");
  EXPECT_EQ(Error({"-Hz"}), "unknown option '-z'");
  EXPECT_EQ(Error({"--hold=yes"}), "option '--hold' takes no value");
  EXPECT_EQ(Error({"--time"}), "option '--time' needs a value");
  EXPECT_EQ(Error({"-t"}), "option '-t' (--time) needs a value");
}

TEST(ParseSubmitArgsValidationTest, Counts) {
  EXPECT_EQ(Error({"-n", "0"}), "--ntasks: must be at least 1, got '0'");
  EXPECT_EQ(Error({"-n", "-2"}), "--ntasks: must be at least 1, got '-2'");
  EXPECT_EQ(Error({"-n", "abc"}), "--ntasks: 'abc' is not an integer");
  EXPECT_EQ(Error({"-n", "3x"}), "--ntasks: '3x' is not an integer");
  EXPECT_EQ(Error({"-n", "+3"}), "--ntasks: '+3' is not an integer");
  EXPECT_EQ(Error({"-n", "99999999999999999999"}),
            "--ntasks: '99999999999999999999' is out of range");
  EXPECT_TRUE(Contains(Error({"-n", "99999999999"}), "must be at most 2147483647"));
  EXPECT_EQ(Error({"-c", "0"}), "--cpus-per-task: must be at least 1, got '0'");
  EXPECT_EQ(Error({"--ntasks="}), "--ntasks: empty value");
  EXPECT_TRUE(Contains(Error({"-N", "0"}), "--nodes: must be at least 1"));
  EXPECT_EQ(Error({"-N", "4-2"}), "--nodes: maximum 2 is below minimum 4 in '4-2'");
  EXPECT_TRUE(Contains(Error({"-N", "2-x"}), "'x' is not an integer"));
  EXPECT_TRUE(Contains(Error({"--gpus=-1"}), "--gpus: must be at least 0"));
  EXPECT_TRUE(Contains(Error({"--gpus=:2"}), "missing GPU type"));
  EXPECT_TRUE(Contains(Error({"--gpus=a:b:2"}), "expected [type:]count"));
  EXPECT_TRUE(Contains(Error({"--nice=abc"}), "--nice: 'abc' is not an integer"));
}

TEST(ParseSubmitArgsValidationTest, ValueFormats) {
  std::string e = Error({"--time=1:xx"});
  EXPECT_TRUE(Contains(e, "--time: invalid time limit '1:xx'")) << e;
  EXPECT_TRUE(Contains(Error({"-t", "0"}), "greater than zero"));
  EXPECT_TRUE(Contains(Error({"--mem=1.5G"}), "--mem: invalid memory size '1.5G'"));
  EXPECT_TRUE(Contains(Error({"--mem=-1"}), "negative"));
  EXPECT_TRUE(Contains(Error({"--array=5-3"}), "--array: invalid array spec '5-3'"));
  EXPECT_TRUE(Contains(Error({"-a", "1-5%0"}), "throttle"));
  EXPECT_TRUE(Contains(Error({"--begin=someday"}), "--begin: invalid begin time 'someday'"));
  EXPECT_TRUE(Contains(Error({"--export=1BAD"}), "'1BAD' is not a variable name"));
  EXPECT_TRUE(Contains(Error({"--export=NONE,A=1"}), "'NONE' must stand alone"));
  EXPECT_TRUE(Contains(Error({"--export=ALL,,A"}), "empty item"));
}

TEST(ParseSubmitArgsValidationTest, EmptyValues) {
  for (const char* option :
       {"--job-name=", "--output=", "--error=", "--input=", "--chdir=", "--wrap=", "--partition=",
        "--comment=", "--export=", "--time=", "--mem=", "--array=", "--dependency=", "--begin=",
        "--nodes=", "--gpus="}) {
    std::string e = Error({option});
    EXPECT_FALSE(e.empty()) << option << " was accepted";
    EXPECT_TRUE(Contains(e, "empty")) << option << ": " << e;
  }
  EXPECT_EQ(Error({"-J", ""}), "--job-name: empty value");
}

TEST(ParseSubmitArgsValidationTest, WrapWithScript) {
  EXPECT_EQ(Parse({"--wrap", "echo hi"}).wrap, "echo hi");
  EXPECT_EQ(Error({"--wrap=echo hi", "job.sh"}),
            "--wrap cannot be combined with a script ('job.sh')");
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
  EXPECT_TRUE(Contains(Error({"-d", "afterok:x"}), "--dependency: invalid dependency"));
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

TEST(MergeDirectivesTest, ErrorsNameTheLine) {
  Result<SubmitOptions> r = MergeScript(
      "#!/bin/bash\n"
      "#SBATCH -J ok\n"
      "#SBATCH --time=1:xx\n",
      {"job.sh"});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().message().starts_with("job.sh:3: --time: invalid time limit '1:xx'"))
      << r.status().message();

  r = MergeScript("#SBATCH -n 2\n\n#SBATCH --bogus\n", {"job.sh"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "job.sh:3: unknown option '--bogus'");

  r = MergeScript("#SBATCH --job-name=my job\n", {"job.sh"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "job.sh:1: unexpected argument 'job' (directives take options only)");

  r = MergeScript("#SBATCH -n 2\n#SBATCH -J\n", {"job.sh"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "job.sh:2: option '-J' (--job-name) needs a value");

  // An option whose value is on the next directive line, as sbatch allows; a bad value is
  // reported on the option's line.
  r = MergeScript("#SBATCH -n\n#SBATCH zero\n", {"job.sh"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "job.sh:1: --ntasks: 'zero' is not an integer");

  r = MergeScript("#SBATCH --wrap=true\n", {"job.sh"});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "--wrap cannot be combined")) << r.status().message();
}

TEST(MergeDirectivesTest, BadCommandLineDoesNotReachMerge) {
  // The command line is parsed first, so its errors carry no script line.
  Result<SubmitOptions> r = MergeScript("#SBATCH -n 1\n", {"-n", "0", "job.sh"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "--ntasks: must be at least 1, got '0'");
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
