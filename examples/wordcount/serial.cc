// Word count, serial reference: one hash table for all the files, then the words sorted. Its
// output file is byte-identical to the MapReduce program's.
//
//   wordcount-serial --generate 10000000 --files 8 --data /tmp/words --output counts.txt --json

#include <unordered_map>

#include "common.h"

int main(int argc, char** argv) {
  CLI::App app{"Word count, serial reference"};
  wordcount::Flags f;
  wordcount::AddFlags(app, f);
  CLI11_PARSE(app, argc, argv);
  auto fail = [](const std::string& what) {
    return swell::examples::Fail("wordcount-serial", what);
  };
  std::vector<std::string> files;
  if (auto err = wordcount::Inputs(f, files); !err.empty()) return fail(err);

  auto start = std::chrono::steady_clock::now();
  std::unordered_map<std::string, int64_t> table;
  std::string text, word;
  double load_s = 0;
  for (const std::string& file : files) {
    auto t = std::chrono::steady_clock::now();
    if (auto err = swell::examples::ReadAll(file, text); !err.empty()) return fail(err);
    load_s += swell::examples::SecondsSince(t);
    wordcount::ForEachWord(text, [&](std::string_view w) {
      word.assign(w);
      ++table[word];
    });
  }
  wordcount::Counts counts(table.begin(), table.end());
  std::sort(counts.begin(), counts.end());
  double seconds = swell::examples::SecondsSince(start);

  if (!f.data.output.empty())
    if (auto err = wordcount::WriteCounts(f.data.output, counts); !err.empty()) return fail(err);
  wordcount::Report("serial", 1, f, counts, load_s, seconds);
  return 0;
}
