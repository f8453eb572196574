#pragma once

// What the example applications' tests share: running a program to completion (a hung one is
// killed, so a test fails instead of hanging), a scratch directory, and the checks every
// application passes: the MapReduce program writes exactly what its serial reference writes
// in every mode, and a bad data set is a clear error.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/files.h"
#include "common/process.h"
#include "testing/scratch.h"

namespace swell::examples {

struct Outcome {
  int code = -1;
  std::string out, err;
};

inline Outcome Exec(const std::vector<std::string>& argv, std::vector<std::string> env = {}) {
  RunOptions o;
  o.env = std::move(env);
  o.timeout = std::chrono::seconds(240);
  auto r = RunCommand(argv, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return {};
  return {r->exit_code, r->out, r->err};
}

// The file's contents, or "" when it cannot be read.
inline std::string ReadText(const std::string& path) {
  auto s = ReadFile(path);
  return s.ok() ? *s : "";
}

// Whether `text` contains `part` (for EXPECT_TRUE with the text as the message).
inline bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The JSON line a program prints last with --json ("" if there is none; the lines hold no
// nested objects).
inline std::string LastJson(const std::string& out) {
  size_t at = out.rfind('{');
  return at == std::string::npos ? "" : out.substr(at);
}

// The launches the MapReduce programs must agree with their serial reference in.
inline const std::vector<std::vector<std::string>>& EveryMode() {
  static const std::vector<std::vector<std::string>> modes = {
      {"--local", "1"}, {"--local", "3"}, {"--local", "2", "--mr-mode=hadoop"}};
  return modes;
}

class ExampleTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  // {bin, extra..., data..., "--data", <a fresh directory>, "--output", Path(out)}: each run
  // generates its own copy of the data set, which must be the same every time.
  std::vector<std::string> Args(const std::string& bin, const std::string& out,
                                const std::vector<std::string>& extra,
                                const std::vector<std::string>& data) {
    std::vector<std::string> a = {bin};
    a.insert(a.end(), extra.begin(), extra.end());
    a.insert(a.end(), data.begin(), data.end());
    a.insert(a.end(), {"--data", Path("data-" + std::to_string(++runs_)), "--output", Path(out)});
    return a;
  }

  // Runs `bin` over `data` in each of `modes`; each run must write exactly `want`.
  void ExpectEveryModeWrites(const std::string& bin, const std::string& want,
                             const std::vector<std::string>& data,
                             const std::vector<std::vector<std::string>>& modes = EveryMode()) {
    for (const auto& mode : modes) {
      std::string how;
      for (const auto& m : mode) how += " " + m;
      std::string out = "mr-" + std::to_string(runs_) + ".txt";
      Outcome o = Exec(Args(bin, out, mode, data));
      ASSERT_EQ(o.code, 0) << how << ": " << o.err;
      EXPECT_EQ(ReadText(Path(out)), want) << how;
      if (Has(how, "hadoop")) {
        EXPECT_TRUE(Has(o.out, "hadoop")) << how << ": " << o.out;
      }
    }
  }

  // The data set errors of a program with --generate UNIT / --input (histogram, wordcount):
  // none given, both given, a missing input file (the MapReduce program in memory and hadoop
  // mode, and the serial reference) and a --data directory that cannot be made. Each exits 1
  // with a message that says what is wrong.
  void ExpectDataSetErrors(const std::string& bin, const std::string& serial,
                           const std::string& unit) {
    auto expect = [](const std::vector<std::string>& argv, const std::string& message) {
      Outcome o = Exec(argv);
      EXPECT_EQ(o.code, 1) << argv[0];
      EXPECT_TRUE(Has(o.err, message)) << argv[0] << ": " << o.err;
    };
    expect({bin, "--local", "1"}, "give --generate " + unit + " or --input FILES");
    expect({serial, "--generate", "10", "--input", "x"}, "give --generate or --input, not both");
    std::string missing = Path("no-such-file");
    expect({bin, "--local", "3", "--input", missing}, "cannot open " + missing);
    expect({bin, "--local", "2", "--mr-mode=hadoop", "--input", missing}, "cannot open " + missing);
    expect({serial, "--input", missing}, "cannot open " + missing);
    std::string blocker = Path("a-file");
    ASSERT_TRUE(WriteFileAtomic(blocker, "").ok());
    expect({bin, "--local", "1", "--generate", "10", "--data", blocker + "/d"},
           "cannot create " + blocker + "/d");
  }

  swell::testing::TempDir dir_;
  int runs_ = 0;
};

}  // namespace swell::examples
