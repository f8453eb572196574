// Word count on swell's MapReduce runtime against the serial reference: the output files are
// byte-identical with 1 and 3 workers and in the hadoop mode; bad input is a clear error.

#include <sstream>

#include "../common/example_test.h"

namespace swell::examples {
namespace {

constexpr int kWords = 150000;
const std::vector<std::string> kData = {
    "--generate", std::to_string(kWords), "--files", "4", "--vocab", "2000", "--seed", "5"};

using WordCountTest = ExampleTest;

// "word count" lines, in file order.
std::vector<std::pair<std::string, int64_t>> Parse(const std::string& text) {
  std::vector<std::pair<std::string, int64_t>> v;
  std::istringstream in(text);
  std::string w;
  int64_t n = 0;
  while (in >> w >> n) v.emplace_back(w, n);
  return v;
}

TEST_F(WordCountTest, MapReduceIsByteIdenticalToTheSerialReference) {
  Outcome serial = Exec(Args(WORDCOUNT_SERIAL_BIN, "serial.txt", {}, kData));
  ASSERT_EQ(serial.code, 0) << serial.err;
  std::string want = ReadText(Path("serial.txt"));
  auto counts = Parse(want);
  ASSERT_GT(counts.size(), 1000u);
  ASSERT_LE(counts.size(), 2000u);
  int64_t total = 0, top = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    total += counts[i].second;
    top = std::max(top, counts[i].second);
    if (i > 0) {
      EXPECT_LT(counts[i - 1].first, counts[i].first) << "sorted by word, once each";
    }
  }
  EXPECT_EQ(total, kWords);
  // Zipf with s = 1 over 2000 words: the most frequent word is about 1 / H(2000) = 12%.
  EXPECT_GT(top, kWords / 10);
  EXPECT_LT(top, kWords / 7);
  ExpectEveryModeWrites(WORDCOUNT_BIN, want, kData);
}

TEST_F(WordCountTest, SplitsNamedFilesAtWhiteSpaceAndReportsJson) {
  std::string a = Path("a.txt"), b = Path("b.txt"), empty = Path("empty.txt");
  ASSERT_TRUE(WriteFileAtomic(a, "the cat\tsat on\r\nthe mat\n\n  the").ok());
  ASSERT_TRUE(WriteFileAtomic(b, "The cat, the\vcat\fon").ok());
  ASSERT_TRUE(WriteFileAtomic(empty, "").ok());
  std::string want = "The 1\ncat 2\ncat, 1\nmat 1\non 2\nsat 1\nthe 4\n";
  for (std::vector<std::string> run :
       {std::vector<std::string>{WORDCOUNT_SERIAL_BIN}, {WORDCOUNT_BIN, "--local", "2"}}) {
    std::string out = Path("out-" + std::to_string(run.size()) + ".txt");
    run.insert(run.end(), {"--json", "--output", out, "--input", a, empty, b});
    Outcome o = Exec(run);
    ASSERT_EQ(o.code, 0) << o.err;
    EXPECT_EQ(ReadText(out), want) << run[0];
    std::string json = LastJson(o.out);
    EXPECT_TRUE(Has(json, "\"words\": 12, \"distinct\": 7,")) << o.out;
    EXPECT_TRUE(Has(json, "\"words_per_s\": ")) << o.out;
    EXPECT_TRUE(json.ends_with("}\n")) << o.out;
  }
}

TEST_F(WordCountTest, BadInputIsAClearError) {
  ExpectDataSetErrors(WORDCOUNT_BIN, WORDCOUNT_SERIAL_BIN, "WORDS");
  Outcome vocab = Exec({WORDCOUNT_BIN, "--local", "2", "--generate", "10", "--vocab", "0"});
  EXPECT_NE(vocab.code, 0);
  EXPECT_TRUE(Has(vocab.err, "--vocab")) << vocab.err;
  Outcome files = Exec({WORDCOUNT_SERIAL_BIN, "--generate", "10", "--files", "0"});
  EXPECT_NE(files.code, 0);
  EXPECT_TRUE(Has(files.err, "--files")) << files.err;
}

}  // namespace
}  // namespace swell::examples
