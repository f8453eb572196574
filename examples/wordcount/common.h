#pragma once

// What the word count programs share (the MapReduce one and the serial reference): the seeded
// text generator, how text splits into words and how the counts are written. Counts are
// integers and the output is sorted by word, so the two programs' outputs are compared byte
// for byte.
//
// Generated text: words drawn from a vocabulary of random lowercase words with Zipf-like
// frequencies (the r-th most frequent word has weight 1 / r^s), as in natural language, where
// a few words ("the", "of") make up much of the text and most words are rare. So the map-side
// combiner has a lot to fold, as it does on real text.

#include <algorithm>
#include <cinttypes>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "../common/example.h"

namespace wordcount {

namespace ex = swell::examples;

struct Flags {
  ex::DataFlags data;
  int vocab = 10000;
  double zipf = 1.0;
};

inline void AddFlags(CLI::App& app, Flags& f) {
  f.data.data = "wordcount-data";
  ex::AddDataFlags(app, f.data, "WORDS");
  app.add_option("--vocab", f.vocab, "distinct words --generate draws from")
      ->check(CLI::Range(1, 1 << 24));
  app.add_option("--zipf", f.zipf, "--generate's Zipf exponent: word r has weight 1 / r^zipf")
      ->check(CLI::Range(0.0, 10.0));
}

// `n` distinct random lowercase words of 2 to 10 letters, in rank order.
inline std::vector<std::string> Vocabulary(ex::Rng& rng, int n) {
  std::vector<std::string> words;
  std::unordered_set<std::string> seen;
  while (static_cast<int>(words.size()) < n) {
    std::string w(static_cast<size_t>(rng.Int(2, 10)), ' ');
    for (char& c : w) c = static_cast<char>('a' + rng.Int(0, 25));
    if (seen.insert(w).second) words.push_back(std::move(w));
  }
  return words;
}

// Draws ranks 0..n-1 with weights 1 / (rank + 1)^s, by binary search in the cumulative weights.
class Zipf {
 public:
  Zipf(int n, double s) : cdf_(static_cast<size_t>(n)) {
    double sum = 0;
    for (int r = 0; r < n; ++r) cdf_[static_cast<size_t>(r)] = sum += std::pow(r + 1.0, -s);
  }
  size_t Draw(ex::Rng& rng) const {
    double u = rng.Uniform() * cdf_.back();
    auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
    return std::min(static_cast<size_t>(it - cdf_.begin()), cdf_.size() - 1);
  }

 private:
  std::vector<double> cdf_;
};

constexpr int kWordsPerLine = 12;

// Writes f.data.generate words as f.data.files text files of consecutive words, kWordsPerLine
// to a line; the file names go to `files`. Returns an error message or "".
inline std::string Generate(const Flags& f, std::vector<std::string>& files) {
  const ex::DataFlags& d = f.data;
  ex::Rng rng{d.seed};
  std::vector<std::string> vocab = Vocabulary(rng, f.vocab);
  Zipf zipf(f.vocab, f.zipf);
  std::string text;
  for (int p = 0; p < d.files; ++p) {
    int64_t begin = d.generate * p / d.files, end = d.generate * (p + 1) / d.files;
    text.clear();
    for (int64_t i = begin; i < end; ++i) {
      text += vocab[zipf.Draw(rng)];
      text += (i - begin + 1) % kWordsPerLine == 0 || i + 1 == end ? '\n' : ' ';
    }
    std::string name = ex::PartName(d.data, p, "txt");
    if (auto err = ex::WriteAll(name, text); !err.empty()) return err;
    files.push_back(name);
  }
  return "";
}

// The input files: generated (on the driver only) or --input. An error message or "".
inline std::string Inputs(const Flags& f, std::vector<std::string>& files) {
  return ex::Inputs(
      f.data, "WORDS",
      [&](const ex::DataFlags&, std::vector<std::string>& out) { return Generate(f, out); }, files);
}

// Calls fn(word) for each word of `text`: a word is a run of bytes other than ASCII white
// space (no case folding, no punctuation stripping: what Hadoop's WordCount example does).
template <typename Fn>
void ForEachWord(std::string_view text, Fn&& fn) {
  auto space = [](char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
  };
  size_t i = 0, n = text.size();
  while (i < n) {
    while (i < n && space(text[i])) ++i;
    size_t start = i;
    while (i < n && !space(text[i])) ++i;
    if (i > start) fn(text.substr(start, i - start));
  }
}

using Counts = std::vector<std::pair<std::string, int64_t>>;  // sorted by word

// "word count" per line. Returns an error message or "".
inline std::string WriteCounts(const std::string& path, const Counts& counts) {
  std::string text;
  char num[24];
  for (const auto& [word, n] : counts) {
    std::snprintf(num, sizeof num, " %" PRId64 "\n", n);
    text += word;
    text += num;
  }
  return ex::WriteAll(path, text);
}

inline int64_t Total(const Counts& counts) {
  int64_t n = 0;
  for (const auto& [word, c] : counts) n += c;
  return n;
}

// The summary line and, with --json, the JSON line (last), shared so both programs report the
// same fields.
inline void Report(const char* impl, int workers, const Flags& f, const Counts& counts,
                   double load_s, double seconds) {
  int64_t words = Total(counts);
  double rate = seconds > 0 ? static_cast<double>(words) / seconds : 0;
  std::printf("wordcount (%s, %d worker%s): %" PRId64
              " words, %zu distinct, in %.3f s "
              "(%.3f s loading), %.0f words/s\n",
              impl, workers, workers == 1 ? "" : "s", words, counts.size(), seconds, load_s, rate);
  if (f.data.json)
    std::printf("{\"impl\": \"%s\", \"workers\": %d, \"words\": %" PRId64
                ", \"distinct\": %zu, \"seconds\": %.6f, \"load_s\": %.6f, "
                "\"words_per_s\": %.1f}\n",
                impl, workers, words, counts.size(), seconds, load_s, rate);
}

}  // namespace wordcount
