#include "cli/submit_options.h"

// The option parser is hand-written rather than built on CLI11 because sbatch's command line
// follows getopt_long, which CLI11 does not reproduce: parsing must stop at the first
// positional (the script's own flags are never ours), "--nice" takes its optional value only
// as "--nice=N", unambiguous long-option prefixes are accepted, and a required value is taken
// from the next token even when it starts with '-'. A table-driven parser also maps an error
// back to the directive line it came from and gives one precise message per mistake, and it
// costs nothing to compile.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <utility>

#include "common/local_time.h"
#include "common/text.h"

namespace swell::cli {
namespace {

using Value = std::optional<std::string>;  // an option's argument, if it has one
using Setter = Status (*)(const Value& value, Time now, SubmitOptions* out);

enum class ArgKind { kNone, kRequired, kOptional };

struct OptionDef {
  std::string_view name;  // long name, without "--"
  char short_name;        // '\0' when there is none
  ArgKind arg;
  std::string_view metavar;
  std::string_view help;
  Setter set;
};

// ---- Value helpers ----

Result<std::string> NonEmpty(const std::string& value) {
  if (value.empty()) return InvalidArgument("empty value");
  return value;
}

Result<int64_t> ParseInteger(std::string_view text, int64_t min, int64_t max) {
  if (text.empty()) return InvalidArgument("empty value");
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  bool consumed = end == text.data() + text.size();
  if (ec == std::errc::result_out_of_range && consumed) {
    return InvalidArgument(fmt::format("'{}' is out of range", text));
  }
  if (ec != std::errc() || !consumed) {
    return InvalidArgument(fmt::format("'{}' is not an integer", text));
  }
  if (value < min) return InvalidArgument(fmt::format("must be at least {}, got '{}'", min, text));
  if (value > max) return InvalidArgument(fmt::format("must be at most {}, got '{}'", max, text));
  return value;
}

Result<int> ParseInt(std::string_view text, int min, int max = std::numeric_limits<int>::max()) {
  SWELL_ASSIGN_OR_RETURN(int64_t value, ParseInteger(text, min, max));
  return static_cast<int>(value);
}

bool IsIdentifier(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
}

// A count of tasks, cpus or nodes: at least 1.
Result<int> ParseCount(std::string_view text) { return ParseInt(text, 1); }

// "123" or "123_4": a job id >= 1, optionally with an array task index.
bool IsDependencyJobId(std::string_view id) {
  size_t underscore = id.find('_');
  std::string_view job = id.substr(0, underscore);
  auto digits_only = [](std::string_view s) { return s.size() <= 18 && AllDigits(s); };
  if (!digits_only(job) || job.find_first_not_of('0') == std::string_view::npos) return false;
  return underscore == std::string_view::npos || digits_only(id.substr(underscore + 1));
}

// ---- Setters ----

// Sets `field` to what `parse` makes of the option's argument.
#define SWELL_PARSED_SETTER(field, parse)                \
  [](const Value& v, Time, SubmitOptions* o) -> Status { \
    SWELL_ASSIGN_OR_RETURN(o->field, parse(*v));         \
    return Status::Ok();                                 \
  }

#define SWELL_STRING_SETTER(field) SWELL_PARSED_SETTER(field, NonEmpty)
#define SWELL_COUNT_SETTER(field) SWELL_PARSED_SETTER(field, ParseCount)

#define SWELL_FLAG_SETTER(field)                       \
  [](const Value&, Time, SubmitOptions* o) -> Status { \
    o->field = true;                                   \
    return Status::Ok();                               \
  }

Status SetNodes(const Value& v, Time, SubmitOptions* o) {
  const std::string& text = *v;
  size_t dash = text.find('-', 1);
  if (dash == std::string::npos) {
    SWELL_ASSIGN_OR_RETURN(int n, ParseInt(text, 1));
    o->nodes_min = o->nodes_max = n;
    return Status::Ok();
  }
  std::string_view view = text;
  SWELL_ASSIGN_OR_RETURN(int lo, ParseInt(view.substr(0, dash), 1));
  SWELL_ASSIGN_OR_RETURN(int hi, ParseInt(view.substr(dash + 1), 1));
  if (hi < lo) {
    return InvalidArgument(fmt::format("maximum {} is below minimum {} in '{}'", hi, lo, text));
  }
  o->nodes_min = lo;
  o->nodes_max = hi;
  return Status::Ok();
}

Status SetGpus(const Value& v, Time, SubmitOptions* o) {
  std::string_view text = *v;
  std::string_view count = text;
  if (size_t colon = text.find(':'); colon != std::string_view::npos) {
    if (colon == 0) {
      return InvalidArgument(fmt::format("missing GPU type before ':' in '{}'", text));
    }
    count = text.substr(colon + 1);
    if (count.find(':') != std::string_view::npos) {
      return InvalidArgument(fmt::format("expected [type:]count, got '{}'", text));
    }
  }
  SWELL_ASSIGN_OR_RETURN(o->gpus, ParseInt(count, 0));
  return Status::Ok();
}

Status SetNice(const Value& v, Time, SubmitOptions* o) {
  constexpr int kDefaultNice = 100;     // sbatch's value for a bare --nice
  constexpr int kMaxNice = 2147483645;  // Slurm's bound: NICE_OFFSET - 3
  if (!v) {
    o->nice = kDefaultNice;
    return Status::Ok();
  }
  SWELL_ASSIGN_OR_RETURN(o->nice, ParseInt(*v, -kMaxNice, kMaxNice));
  return Status::Ok();
}

Status SetRequeue(const Value&, Time, SubmitOptions* o) {
  o->requeue = true;
  o->no_requeue = false;
  return Status::Ok();
}

Status SetNoRequeue(const Value&, Time, SubmitOptions* o) {
  o->requeue = false;
  o->no_requeue = true;
  return Status::Ok();
}

// Kept sorted by long name: SubmitUsage() lists them in this order.
const OptionDef kOptions[] = {
    {"array", 'a', ArgKind::kRequired, "SPEC", "job array indices, e.g. 0-15:4 or 1-100%10",
     [](const Value& v, Time, SubmitOptions* o) -> Status {
       SWELL_ASSIGN_OR_RETURN(o->array, ParseArraySpec(*v));
       o->array_text = *v;
       return Status::Ok();
     }},
    {"begin", 'b', ArgKind::kRequired, "TIME", "defer the job until TIME (e.g. now+1hour, 16:00)",
     [](const Value& v, Time now, SubmitOptions* o) -> Status {
       SWELL_ASSIGN_OR_RETURN(o->begin, ParseBeginTime(*v, now));
       o->begin_text = *v;
       return Status::Ok();
     }},
    {"chdir", 'D', ArgKind::kRequired, "DIR", "working directory of the job",
     SWELL_STRING_SETTER(chdir)},
    {"comment", '\0', ArgKind::kRequired, "TEXT", "free-form comment",
     SWELL_STRING_SETTER(comment)},
    {"cpus-per-task", 'c', ArgKind::kRequired, "N", "CPUs per task",
     SWELL_COUNT_SETTER(cpus_per_task)},
    {"dependency", 'd', ArgKind::kRequired, "LIST",
     "e.g. afterok:123:124, afterany:5?afternotok:6, singleton",
     SWELL_PARSED_SETTER(dependency, ParseDependency)},
    {"error", 'e', ArgKind::kRequired, "PATTERN", "file for stderr (%j, %A, %a, %x, %N, %u)",
     SWELL_STRING_SETTER(error)},
    {"exclude", 'x', ArgKind::kRequired, "NODES", "nodes to avoid (host list, or a file of names)",
     SWELL_STRING_SETTER(exclude)},
    {"exclusive", '\0', ArgKind::kNone, "", "whole nodes: share them with no other job",
     SWELL_FLAG_SETTER(exclusive)},
    {"export", '\0', ArgKind::kRequired, "VARS", "ALL, NONE or [ALL,]VAR[=value],...",
     [](const Value& v, Time, SubmitOptions* o) -> Status {
       SWELL_RETURN_IF_ERROR(ValidateExportSpec(*v));
       o->export_spec = *v;
       return Status::Ok();
     }},
    {"gpus", 'G', ArgKind::kRequired, "[TYPE:]N", "GPUs for the job", SetGpus},
    {"help", 'h', ArgKind::kNone, "", "show this help", SWELL_FLAG_SETTER(help)},
    {"hold", 'H', ArgKind::kNone, "", "submit the job held", SWELL_FLAG_SETTER(hold)},
    {"input", 'i', ArgKind::kRequired, "PATTERN", "file for stdin", SWELL_STRING_SETTER(input)},
    {"job-name", 'J', ArgKind::kRequired, "NAME", "job name", SWELL_STRING_SETTER(job_name)},
    {"kill-on-bad-exit", 'K', ArgKind::kNone, "", "srun: end the step when a task fails",
     SWELL_FLAG_SETTER(kill_on_bad_exit)},
    {"label", 'l', ArgKind::kNone, "", "srun: prefix output lines with the task's rank",
     SWELL_FLAG_SETTER(label)},
    {"mem", '\0', ArgKind::kRequired, "SIZE", "memory per node, e.g. 100M, 4G (0 = all)",
     SWELL_PARSED_SETTER(mem_mb, ParseMemoryMb)},
    {"mpi", '\0', ArgKind::kOptional, "TYPE",
     "run: start the command with mpirun (openmpi, the default) or mpiexec (mpich); srun "
     "accepts and ignores it",
     [](const Value& v, Time, SubmitOptions* o) -> Status {
       o->mpi = v ? *v : "";
       return Status::Ok();
     }},
    {"nice", '\0', ArgKind::kOptional, "N", "lower the priority by N (default 100)", SetNice},
    {"no-requeue", '\0', ArgKind::kNone, "", "never requeue the job", SetNoRequeue},
    {"nodes", 'N', ArgKind::kRequired, "MIN[-MAX]", "node count", SetNodes},
    {"nodelist", 'w', ArgKind::kRequired, "NODES",
     "nodes to use, each at least one task (host list or file)", SWELL_STRING_SETTER(nodelist)},
    {"ntasks", 'n', ArgKind::kRequired, "N", "number of tasks", SWELL_COUNT_SETTER(ntasks)},
    {"ntasks-per-node", '\0', ArgKind::kRequired, "N", "tasks on each node",
     SWELL_COUNT_SETTER(ntasks_per_node)},
    {"output", 'o', ArgKind::kRequired, "PATTERN", "file for stdout (%j, %A, %a, %x, %N, %u)",
     SWELL_STRING_SETTER(output)},
    {"parsable", '\0', ArgKind::kNone, "", "print only the job id", SWELL_FLAG_SETTER(parsable)},
    {"partition", 'p', ArgKind::kRequired, "NAME", "partition (recorded only)",
     SWELL_STRING_SETTER(partition)},
    {"quiet", 'Q', ArgKind::kNone, "", "print nothing but errors", SWELL_FLAG_SETTER(quiet)},
    {"requeue", '\0', ArgKind::kNone, "", "allow the job to be requeued", SetRequeue},
    {"time", 't', ArgKind::kRequired, "LIMIT", "time limit: M, M:S, H:M:S, D-H[:M[:S]], UNLIMITED",
     SWELL_PARSED_SETTER(time_limit, ParseTimeLimit)},
    {"wait", 'W', ArgKind::kNone, "", "return only when the job has ended",
     SWELL_FLAG_SETTER(wait)},
    {"wrap", '\0', ArgKind::kRequired, "COMMAND", "run COMMAND under sh instead of a script",
     SWELL_STRING_SETTER(wrap)},
};

#undef SWELL_PARSED_SETTER
#undef SWELL_STRING_SETTER
#undef SWELL_COUNT_SETTER
#undef SWELL_FLAG_SETTER

// Exact name, else the only option the name is a prefix of.
Result<const OptionDef*> FindLong(std::string_view name) {
  std::vector<const OptionDef*> candidates;
  for (const OptionDef& def : kOptions) {
    if (def.name == name) return &def;
    if (!name.empty() && def.name.substr(0, name.size()) == name) candidates.push_back(&def);
  }
  if (candidates.size() == 1) return candidates[0];
  if (candidates.empty()) return InvalidArgument(fmt::format("unknown option '--{}'", name));
  std::string names;
  for (const OptionDef* def : candidates) {
    names += fmt::format("{}--{}", names.empty() ? "" : ", ", def->name);
  }
  return InvalidArgument(fmt::format("ambiguous option '--{}' (could be {})", name, names));
}

const OptionDef* FindShort(char c) {
  for (const OptionDef& def : kOptions) {
    if (def.short_name == c && c != '\0') return &def;
  }
  return nullptr;
}

Status Apply(const OptionDef& def, const Value& value, Time now, SubmitOptions* out) {
  Status s = def.set(value, now, out);
  return s.ok() ? s : s.WithContext(fmt::format("--{}", def.name));
}

// getopt_long-style parsing of `args` into `out`. In directive mode a non-option word is an
// error; otherwise it and all later words are positional. On error *error_index is the index
// of the word the failing option started at.
Status ParseTokens(const std::vector<std::string>& args, Time now, bool directives,
                   SubmitOptions* out, size_t* error_index) {
  size_t i = 0;
  auto positional_from = [&](size_t first) -> Status {
    if (directives && first < args.size()) {
      *error_index = first;
      return InvalidArgument(
          fmt::format("unexpected argument '{}' (directives take options only)", args[first]));
    }
    out->positional.assign(args.begin() + static_cast<std::ptrdiff_t>(first), args.end());
    return Status::Ok();
  };
  while (i < args.size()) {
    const std::string& word = args[i];
    *error_index = i;
    if (word == "--") return positional_from(i + 1);
    if (word.size() > 2 && word.compare(0, 2, "--") == 0) {
      size_t eq = word.find('=');
      std::string_view name =
          std::string_view(word).substr(2, eq == std::string::npos ? eq : eq - 2);
      SWELL_ASSIGN_OR_RETURN(const OptionDef* def, FindLong(name));
      Value value;
      if (eq != std::string::npos) value = word.substr(eq + 1);
      switch (def->arg) {
        case ArgKind::kNone:
          if (value) {
            return InvalidArgument(fmt::format("option '--{}' takes no value", def->name));
          }
          break;
        case ArgKind::kRequired:
          if (!value) {
            if (i + 1 >= args.size()) {
              return InvalidArgument(fmt::format("option '--{}' needs a value", def->name));
            }
            value = args[++i];
          }
          break;
        case ArgKind::kOptional:
          break;  // only "--opt=value" carries the value, as with getopt_long
      }
      SWELL_RETURN_IF_ERROR(Apply(*def, value, now, out));
      ++i;
      continue;
    }
    if (word.size() > 1 && word[0] == '-') {
      // One or more bundled short options; one that takes a value ends the bundle.
      for (size_t j = 1; j < word.size(); ++j) {
        const OptionDef* def = FindShort(word[j]);
        if (def == nullptr) return InvalidArgument(fmt::format("unknown option '-{}'", word[j]));
        if (def->arg == ArgKind::kNone) {
          SWELL_RETURN_IF_ERROR(Apply(*def, std::nullopt, now, out));
          continue;
        }
        Value value;
        if (j + 1 < word.size()) {
          value = word.substr(j + 1);
        } else if (i + 1 < args.size()) {
          value = args[++i];
        } else {
          return InvalidArgument(
              fmt::format("option '-{}' (--{}) needs a value", word[j], def->name));
        }
        SWELL_RETURN_IF_ERROR(Apply(*def, value, now, out));
        break;
      }
      ++i;
      continue;
    }
    return positional_from(i);
  }
  return Status::Ok();
}

Status ValidateCombination(const SubmitOptions& o) {
  if (o.wrap && !o.positional.empty()) {
    return InvalidArgument(
        fmt::format("--wrap cannot be combined with a script ('{}')", o.positional.front()));
  }
  return Status::Ok();
}

// Copies every option `top` sets over `base`.
void Overlay(const SubmitOptions& top, SubmitOptions* base) {
  // A value `top` gives replaces base's.
  auto take = [](const auto& from, auto* to) {
    if (from) *to = from;
  };
  take(top.job_name, &base->job_name);
  take(top.ntasks, &base->ntasks);
  take(top.ntasks_per_node, &base->ntasks_per_node);
  take(top.nodelist, &base->nodelist);
  take(top.exclude, &base->exclude);
  take(top.mpi, &base->mpi);
  take(top.cpus_per_task, &base->cpus_per_task);
  take(top.mem_mb, &base->mem_mb);
  take(top.time_limit, &base->time_limit);
  take(top.output, &base->output);
  take(top.error, &base->error);
  take(top.input, &base->input);
  take(top.dependency, &base->dependency);
  take(top.chdir, &base->chdir);
  take(top.export_spec, &base->export_spec);
  take(top.wrap, &base->wrap);
  take(top.gpus, &base->gpus);
  take(top.partition, &base->partition);
  take(top.nice, &base->nice);
  take(top.comment, &base->comment);
  // Values that go together move together.
  if (top.nodes_min) base->nodes_min = top.nodes_min, base->nodes_max = top.nodes_max;
  if (top.array) base->array = top.array, base->array_text = top.array_text;
  if (top.begin) base->begin = top.begin, base->begin_text = top.begin_text;
  if (top.requeue || top.no_requeue) base->requeue = top.requeue, base->no_requeue = top.no_requeue;
  // A flag either side sets stays set.
  for (bool SubmitOptions::*flag :
       {&SubmitOptions::exclusive, &SubmitOptions::label, &SubmitOptions::kill_on_bad_exit,
        &SubmitOptions::hold, &SubmitOptions::quiet, &SubmitOptions::parsable, &SubmitOptions::wait,
        &SubmitOptions::help})
    base->*flag = base->*flag || top.*flag;
}

bool IsShellBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Splits one directive line (after the prefix) into words, shell-like without expansion.
Status SplitDirectiveLine(std::string_view line, int line_no, std::string_view script_name,
                          std::vector<DirectiveToken>* out) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format("{}:{}: {}", script_name, line_no, why));
  };
  std::string word;
  bool in_word = false;
  size_t i = 0;
  while (i < line.size()) {
    char c = line[i];
    if (IsShellBlank(c)) {
      if (in_word) out->push_back({std::move(word), line_no});
      word.clear();
      in_word = false;
      ++i;
    } else if (c == '#' && !in_word) {
      break;  // trailing comment
    } else if (c == '\'') {
      size_t close = line.find('\'', i + 1);
      if (close == std::string_view::npos) return bad("unterminated ' quote in directive");
      word.append(line.substr(i + 1, close - i - 1));
      in_word = true;
      i = close + 1;
    } else if (c == '"') {
      in_word = true;
      ++i;
      bool closed = false;
      while (i < line.size()) {
        char d = line[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        // Inside double quotes a backslash escapes only \ " $ and `.
        if (d == '\\' && i + 1 < line.size() &&
            std::string_view("\\\"$`").find(line[i + 1]) != std::string_view::npos) {
          word += line[i + 1];
          i += 2;
          continue;
        }
        word += d;
        ++i;
      }
      if (!closed) return bad("unterminated \" quote in directive");
    } else if (c == '\\') {
      in_word = true;
      if (i + 1 < line.size()) {
        word += line[i + 1];
        i += 2;
      } else {
        word += '\\';  // a lone trailing backslash stays literal (no line continuation)
        ++i;
      }
    } else {
      word += c;
      in_word = true;
      ++i;
    }
  }
  if (in_word) out->push_back({std::move(word), line_no});
  return Status::Ok();
}

}  // namespace

Result<Dependency> ParseDependency(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format("invalid dependency '{}': {}", text, why));
  };
  if (text.empty()) return bad("empty value");
  bool has_comma = text.find(',') != std::string_view::npos;
  bool has_question = text.find('?') != std::string_view::npos;
  if (has_comma && has_question) {
    return bad("cannot mix ',' (all must hold) and '?' (any may hold)");
  }
  Dependency dep;
  dep.any = has_question;
  for (std::string_view term : Split(text, has_question ? '?' : ',')) {
    if (term.empty()) return bad("empty term");
    std::vector<std::string_view> parts = Split(term, ':');
    DependencyTerm out;
    out.type = ToLower(parts[0]);
    if (parts.size() == 1 && IsDependencyJobId(parts[0])) {
      // Slurm's legacy form: a bare job id means afterany.
      dep.terms.push_back({"afterany", {std::string(parts[0])}});
      continue;
    }
    if (out.type == "singleton") {
      if (parts.size() > 1) return bad("'singleton' takes no job ids");
      dep.terms.push_back(std::move(out));
      continue;
    }
    if (out.type == "aftercorr" || out.type == "afterburstbuffer" || out.type == "expand") {
      return bad(fmt::format("dependency type '{}' is not supported", parts[0]));
    }
    if (out.type != "after" && out.type != "afterany" && out.type != "afterok" &&
        out.type != "afternotok") {
      return bad(fmt::format(
          "unknown type '{}' (expected after, afterany, afterok, afternotok or singleton)",
          parts[0]));
    }
    if (parts.size() == 1) return bad(fmt::format("'{}' needs at least one job id", parts[0]));
    for (size_t i = 1; i < parts.size(); ++i) {
      std::string_view id = parts[i];
      if (id.empty()) return bad(fmt::format("empty job id in '{}'", term));
      if (id.find('+') != std::string_view::npos) {
        return bad(fmt::format("delays such as '{}' are not supported", id));
      }
      if (!IsDependencyJobId(id)) {
        return bad(fmt::format("'{}' is not a job id (expected 123 or 123_4)", id));
      }
      out.job_ids.emplace_back(id);
    }
    dep.terms.push_back(std::move(out));
  }
  return dep;
}

Status ValidateExportSpec(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format(
        "invalid export list '{}': {} (expected ALL, NONE or [ALL,]VAR[=value],...)", text, why));
  };
  if (text.empty()) return bad("empty value");
  std::vector<std::string_view> items = Split(text, ',');
  for (std::string_view item : items) {
    if (item.empty()) return bad("empty item");
    std::string lower = ToLower(item);
    if (lower == "all") continue;
    if (lower == "none" || lower == "nil") {
      if (items.size() > 1) return bad(fmt::format("'{}' must stand alone", item));
      continue;
    }
    std::string_view name = item.substr(0, item.find('='));
    if (!IsIdentifier(name)) return bad(fmt::format("'{}' is not a variable name", name));
  }
  return Status::Ok();
}

Result<SubmitOptions> ParseSubmitArgs(const std::vector<std::string>& args, Time now) {
  SubmitOptions options;
  size_t error_index = 0;
  SWELL_RETURN_IF_ERROR(ParseTokens(args, now, /*directives=*/false, &options, &error_index));
  SWELL_RETURN_IF_ERROR(ValidateCombination(options));
  return options;
}

Result<std::vector<DirectiveToken>> ExtractDirectives(std::string_view script,
                                                      std::string_view script_name) {
  std::vector<DirectiveToken> tokens;
  int line_no = 0;
  for (std::string_view line : Split(script, '\n')) {
    ++line_no;
    size_t first = 0;
    while (first < line.size() && IsShellBlank(line[first])) ++first;
    if (first == line.size()) continue;  // blank
    if (line[first] != '#') break;       // the first command ends the directives
    for (std::string_view prefix : {std::string_view("#SBATCH"), std::string_view("#SWELL")}) {
      if (line.substr(0, prefix.size()) == prefix &&
          (line.size() == prefix.size() || IsShellBlank(line[prefix.size()]))) {
        SWELL_RETURN_IF_ERROR(
            SplitDirectiveLine(line.substr(prefix.size()), line_no, script_name, &tokens));
      }
    }
  }
  return tokens;
}

Result<SubmitOptions> MergeDirectives(const std::vector<DirectiveToken>& directives,
                                      const SubmitOptions& cli, std::string_view script_name,
                                      Time now) {
  std::vector<std::string> words;
  words.reserve(directives.size());
  for (const DirectiveToken& token : directives) words.push_back(token.text);
  SubmitOptions merged;
  size_t error_index = 0;
  Status s = ParseTokens(words, now, /*directives=*/true, &merged, &error_index);
  if (!s.ok()) {
    int line = error_index < directives.size() ? directives[error_index].line : 0;
    return s.WithContext(fmt::format("{}:{}", script_name, line));
  }
  Overlay(cli, &merged);
  merged.positional = cli.positional;
  SWELL_RETURN_IF_ERROR(ValidateCombination(merged));
  return merged;
}

std::string SubmitUsage() {
  std::string out = "Options:\n";
  for (const OptionDef& def : kOptions) {
    std::string left = def.short_name != '\0' ? fmt::format("  -{}, ", def.short_name) : "      ";
    left += fmt::format("--{}", def.name);
    if (def.arg == ArgKind::kRequired) left += fmt::format("={}", def.metavar);
    if (def.arg == ArgKind::kOptional) left += fmt::format("[={}]", def.metavar);
    out += fmt::format("{:<32} {}\n", left, def.help);
  }
  return out;
}

}  // namespace swell::cli
