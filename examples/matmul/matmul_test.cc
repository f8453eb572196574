// Matrix multiplication on swell's MapReduce runtime against the naive serial product: C is
// bit-identical with 1 and 3 workers, with text blocks and in the hadoop mode; bad flags are a
// clear error.

#include <cmath>
#include <sstream>

#include "../common/example_test.h"

namespace swell::examples {
namespace {

// n = 100 in 3 blocks: the blocks are 33, 33 and 34 wide.
const std::vector<std::string> kData = {"--n", "100", "--blocks", "3", "--seed", "3"};

using MatMulTest = ExampleTest;

TEST_F(MatMulTest, MapReduceIsBitIdenticalToTheNaiveProduct) {
  Outcome serial = Exec(Args(MATMUL_SERIAL_BIN, "serial.txt", {}, kData));
  ASSERT_EQ(serial.code, 0) << serial.err;
  std::string want = ReadText(Path("serial.txt"));
  // 100 rows of 100 integers, not all zero.
  std::istringstream in(want);
  std::vector<double> c;
  for (double x; in >> x;) c.push_back(x);
  ASSERT_EQ(c.size(), 100u * 100);
  int nonzero = 0;
  for (double x : c) {
    EXPECT_EQ(x, std::round(x));
    nonzero += x != 0;
  }
  EXPECT_GT(nonzero, 9000);
  auto modes = EveryMode();
  modes.push_back({"--local", "2", "--text"});
  ExpectEveryModeWrites(MATMUL_BIN, want, kData, modes);
}

TEST_F(MatMulTest, OneBlockAndOneRowPerBlockAndJson) {
  for (const char* blocks : {"1", "7"}) {
    std::vector<std::string> shape = {"--n", "7", "--blocks", blocks};
    Outcome serial = Exec(Args(MATMUL_SERIAL_BIN, "serial.txt", {"--json"}, shape));
    ASSERT_EQ(serial.code, 0) << serial.err;
    Outcome mr = Exec(Args(MATMUL_BIN, "mr.txt", {"--json", "--local", "2", "--stats"}, shape));
    ASSERT_EQ(mr.code, 0) << mr.err;
    EXPECT_EQ(ReadText(Path("mr.txt")), ReadText(Path("serial.txt"))) << blocks << " blocks";
    // One iteration per row block of A.
    EXPECT_TRUE(Has(mr.err, std::string("iter ") + blocks + ": load")) << mr.err;
    std::string json = LastJson(mr.out);
    EXPECT_TRUE(Has(json, std::string("\"blocks\": ") + blocks + ",")) << mr.out;
    EXPECT_TRUE(Has(json, "\"gflops_per_s\": ")) << mr.out;
    EXPECT_TRUE(json.ends_with("}\n")) << mr.out;
    EXPECT_TRUE(Has(LastJson(serial.out), "\"impl\": \"serial\"")) << serial.out;
  }
}

TEST_F(MatMulTest, BadFlagsAreAClearError) {
  std::vector<std::string> shape = {"--n", "4", "--blocks", "5"};
  for (std::vector<std::string> run : {Args(MATMUL_BIN, "c.txt", {"--local", "2"}, shape),
                                       Args(MATMUL_SERIAL_BIN, "c.txt", {}, shape)}) {
    Outcome o = Exec(run);
    EXPECT_EQ(o.code, 1) << run[0];
    EXPECT_TRUE(Has(o.err, "--blocks 5 is more than --n 4")) << o.err;
  }
  Outcome zero = Exec({MATMUL_BIN, "--local", "1", "--n", "0"});
  EXPECT_NE(zero.code, 0);
  EXPECT_TRUE(Has(zero.err, "--n")) << zero.err;
  std::string blocker = Path("a-file");
  ASSERT_TRUE(WriteFileAtomic(blocker, "").ok());
  Outcome dir = Exec({MATMUL_BIN, "--local", "1", "--n", "8", "--data", blocker + "/d"});
  EXPECT_EQ(dir.code, 1);
  EXPECT_TRUE(Has(dir.err, "cannot create " + blocker + "/d")) << dir.err;
  Outcome out = Exec({MATMUL_BIN, "--local", "1", "--n", "8", "--data", Path("d"), "--output",
                      blocker + "/c.txt"});
  EXPECT_EQ(out.code, 1);
  EXPECT_TRUE(Has(out.err, "cannot write " + blocker + "/c.txt")) << out.err;
}

}  // namespace
}  // namespace swell::examples
