#include "common/slurm_output.h"

#include <gtest/gtest.h>

#include <map>

namespace swell {
namespace {

// squeue(1): 'default "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R"'.
constexpr char kSqueueDefault[] = "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R";

TEST(ParseOutputFormatTest, SqueueDefault) {
  OutputFormat f = ParseOutputFormat(kSqueueDefault);
  EXPECT_EQ(f.prefix, "");
  ASSERT_EQ(f.fields.size(), 8u);
  EXPECT_EQ(f.fields[0], (OutputField{'i', 18, true, " ", ".18i "}));
  EXPECT_EQ(f.fields[1], (OutputField{'P', 9, true, " ", ".9P "}));
  EXPECT_EQ(f.fields[4], (OutputField{'t', 2, true, " ", ".2t "}));
  EXPECT_EQ(f.fields[7], (OutputField{'R', 0, false, "", "R"}));
}

TEST(ParseOutputFormatTest, WidthsAlignmentPrefixAndSuffixes) {
  OutputFormat f = ParseOutputFormat("id=%10i|%-10j|%.5u END");
  EXPECT_EQ(f.prefix, "id=");
  ASSERT_EQ(f.fields.size(), 3u);
  EXPECT_EQ(f.fields[0], (OutputField{'i', 10, false, "|", "10i|"}));
  EXPECT_EQ(f.fields[1], (OutputField{'j', 10, false, "|", "-10j|"}));
  EXPECT_EQ(f.fields[2], (OutputField{'u', 5, true, " END", ".5u END"}));
}

TEST(ParseOutputFormatTest, OddInputNeverFails) {
  EXPECT_EQ(ParseOutputFormat("").fields.size(), 0u);
  EXPECT_EQ(ParseOutputFormat("plain text").prefix, "plain text");
  // "%%" and a trailing '%' print nothing, as in Slurm (strtok skips empty tokens).
  OutputFormat f = ParseOutputFormat("%i%%%j%");
  ASSERT_EQ(f.fields.size(), 2u);
  EXPECT_EQ(f.fields[0].type, 'i');
  EXPECT_EQ(f.fields[1].type, 'j');
  // A width without a letter has type 0; enormous widths are clamped.
  EXPECT_EQ(ParseOutputFormat("%.10").fields[0].type, 0);
  EXPECT_EQ(ParseOutputFormat("%99999999999999i").fields[0].width, 1'000'000);
}

TEST(PadFieldTest, SlurmColumnRules) {
  EXPECT_EQ(PadField("abc", 0, false), "abc");
  EXPECT_EQ(PadField("abc", 6, false), "abc   ");
  EXPECT_EQ(PadField("abc", 6, true), "   abc");
  EXPECT_EQ(PadField("hello-world", 8, false), "hello-wo");  // %.8j cuts long names
  EXPECT_EQ(PadField("hello-world", 8, true), "hello-wo");
  EXPECT_EQ(PadField("node[1-100]", 5, false, /*cut=*/false), "node[1-100]");
  EXPECT_EQ(PadField("", 3, true), "   ");
}

TEST(RenderLineTest, SqueueDefaultHeader) {
  // The header squeue prints with its default format.
  static const std::map<char, std::string> kHeaders = {
      {'i', "JOBID"}, {'P', "PARTITION"}, {'j', "NAME"},  {'u', "USER"},
      {'t', "ST"},    {'M', "TIME"},      {'D', "NODES"}, {'R', "NODELIST(REASON)"}};
  std::string header = RenderLine(ParseOutputFormat(kSqueueDefault), [](const OutputField& f) {
    return FieldText{kHeaders.at(f.type), f.type != 'R'};
  });
  EXPECT_EQ(header,
            "             JOBID PARTITION     NAME     USER ST       TIME  NODES "
            "NODELIST(REASON)");
}

TEST(RenderLineTest, PrefixValuesAndSuffixes) {
  std::string line = RenderLine(ParseOutputFormat("> %.4i:%-3j<"), [](const OutputField& f) {
    return FieldText{f.type == 'i' ? "12" : "x"};
  });
  EXPECT_EQ(line, ">   12:x  <");
}

TEST(FormatSecondsTest, SqueueTimeColumn) {
  EXPECT_EQ(FormatSeconds(0), "0:00");
  EXPECT_EQ(FormatSeconds(65), "1:05");
  EXPECT_EQ(FormatSeconds(600), "10:00");
  EXPECT_EQ(FormatSeconds(3600), "1:00:00");
  EXPECT_EQ(FormatSeconds(3 * 3600 + 62), "3:01:02");
  EXPECT_EQ(FormatSeconds(86400 + 3661), "1-01:01:01");
  EXPECT_EQ(FormatSeconds(-1), "INVALID");
}

}  // namespace
}  // namespace swell
