// The histogram on swell's MapReduce runtime against the serial reference: the output files are
// byte-identical with 1 and 3 workers and in the hadoop mode; bad input is a clear error.

#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <sstream>

#include "../common/example_test.h"

namespace swell::examples {
namespace {

constexpr int kEvents = 200000;
constexpr double kInf = std::numeric_limits<double>::infinity();
const std::vector<std::string> kData = {
    "--generate", std::to_string(kEvents), "--files", "5", "--seed", "11"};

using HistogramTest = ExampleTest;

// "edge count" lines as edge -> count.
std::map<double, int64_t> Parse(const std::string& text) {
  std::map<double, int64_t> h;
  std::istringstream in(text);
  std::string edge;
  int64_t n = 0;
  while (in >> edge >> n) h[std::strtod(edge.c_str(), nullptr)] = n;
  return h;
}

TEST_F(HistogramTest, MapReduceIsByteIdenticalToTheSerialReference) {
  Outcome serial = Exec(Args(HISTOGRAM_SERIAL_BIN, "serial.txt", {}, kData));
  ASSERT_EQ(serial.code, 0) << serial.err;
  std::string want = ReadText(Path("serial.txt"));
  auto h = Parse(want);
  ASSERT_EQ(h.size(), 102u) << want;  // 100 bins, underflow and overflow
  int64_t total = 0;
  for (auto& [edge, n] : h) total += n;
  EXPECT_EQ(total, kEvents);
  // The resonance at 125 stands well above the background a few sigma away.
  EXPECT_GT(h[125], 3 * h[135] / 2) << want;
  EXPECT_EQ(h[-kInf] + h[200], 0) << "the generator stays inside [100, 200)";
  ExpectEveryModeWrites(HISTOGRAM_BIN, want, kData);
}

TEST_F(HistogramTest, ReadsNamedFilesWithItsOwnBinningAndReportsJson) {
  Outcome gen = Exec(Args(HISTOGRAM_SERIAL_BIN, "all.txt", {}, kData));
  ASSERT_EQ(gen.code, 0) << gen.err;
  std::vector<std::string> files;
  for (int p = 0; p < 5; ++p)
    files.push_back(Path("data-1/part-000" + std::to_string(p) + ".events"));
  auto run = [&](const std::string& bin, const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> a = {bin,     "--bins", "7",        "--lo",    "120",    "--hi",
                                  "130.5", "--json", "--output", Path(out), "--input"};
    a.insert(a.end(), files.begin(), files.end());
    a.insert(a.end(), extra.begin(), extra.end());
    return Exec(a);
  };
  Outcome serial = run(HISTOGRAM_SERIAL_BIN, "serial.txt", {});
  ASSERT_EQ(serial.code, 0) << serial.err;
  Outcome mr = run(HISTOGRAM_BIN, "mr.txt", {"--local", "2"});
  ASSERT_EQ(mr.code, 0) << mr.err;
  std::string want = ReadText(Path("serial.txt"));
  EXPECT_EQ(ReadText(Path("mr.txt")), want);
  auto h = Parse(want);
  ASSERT_EQ(h.size(), 9u) << want;
  EXPECT_EQ(h.begin()->first, -kInf);
  EXPECT_GT(h[-kInf], 0);                 // below 120
  EXPECT_GT(h[130.5], 0);                 // 130.5 and above
  EXPECT_NE(h.count(121.5), 0u) << want;  // the second bin's lower edge

  // The JSON line comes last and counts every event, in or out of range.
  for (const Outcome* o : {&serial, &mr}) {
    std::string json = LastJson(o->out);
    EXPECT_TRUE(Has(json, "\"events\": " + std::to_string(kEvents) + ",")) << o->out;
    EXPECT_TRUE(Has(json, "\"seconds\": ")) << o->out;
    EXPECT_TRUE(Has(json, "\"events_per_s\": ")) << o->out;
    EXPECT_TRUE(json.ends_with("}\n")) << o->out;
  }
  EXPECT_TRUE(Has(mr.out, "\"impl\": \"swell\"")) << mr.out;
}

TEST_F(HistogramTest, BadInputIsAClearError) {
  ExpectDataSetErrors(HISTOGRAM_BIN, HISTOGRAM_SERIAL_BIN, "EVENTS");

  std::string junk = Path("junk.events");
  ASSERT_TRUE(WriteFileAtomic(junk, "not events at all").ok());
  Outcome bad = Exec({HISTOGRAM_BIN, "--local", "1", "--input", junk});
  EXPECT_EQ(bad.code, 1);
  EXPECT_TRUE(Has(bad.err, junk + ": not an event file")) << bad.err;
  std::string cut = Path("cut.events");
  ASSERT_TRUE(WriteFileAtomic(cut, std::string("SWHEPEV1\4\0\0\0\0\0\0\0", 16) + "abc").ok());
  Outcome truncated = Exec({HISTOGRAM_SERIAL_BIN, "--input", cut});
  EXPECT_EQ(truncated.code, 1);
  EXPECT_TRUE(Has(truncated.err, "not a whole number of 32-byte events")) << truncated.err;

  Outcome bins = Exec({HISTOGRAM_BIN, "--local", "1", "--bins", "0", "--input", junk});
  EXPECT_NE(bins.code, 0);
  EXPECT_TRUE(Has(bins.err, "--bins")) << bins.err;
  Outcome range = Exec({HISTOGRAM_BIN, "--local", "2", "--lo", "5", "--hi", "5", "--input", junk});
  EXPECT_EQ(range.code, 1);
  EXPECT_TRUE(Has(range.err, "--lo must be below --hi")) << range.err;
}

}  // namespace
}  // namespace swell::examples
