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

#include "cli/submit_option_setters.h"
#include "common/local_time.h"
#include "common/text.h"

namespace swell::cli {
namespace {

using internal::ParseContext;
using internal::Value;

// ---- Value helpers ----

bool IsIdentifier(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
}

// "123" or "123_4": a job id >= 1, optionally with an array task index.
bool IsDependencyJobId(std::string_view id) {
  size_t underscore = id.find('_');
  std::string_view job = id.substr(0, underscore);
  auto digits_only = [](std::string_view s) { return s.size() <= 18 && AllDigits(s); };
  if (!digits_only(job) || job.find_first_not_of('0') == std::string_view::npos) return false;
  return underscore == std::string_view::npos || digits_only(id.substr(underscore + 1));
}

// ---- getopt_long ----

// getopt's complaint, which Slurm follows with "Try ... --help".
Status Getopt(std::string message) { return InvalidArgument(std::move(message)); }

bool Takes(const CatalogOption& def, JobCommand command) { return (def.commands & command) != 0; }

// getopt_long's lookup: an exact name, else the options the name is a prefix of, which must
// all be one option (an alias counts as the option it stands for).
Result<const CatalogOption*> FindLong(std::string_view name, std::string_view word,
                                      JobCommand command) {
  std::vector<const CatalogOption*> candidates;
  for (const CatalogOption& def : SlurmOptionCatalog()) {
    if (!Takes(def, command)) continue;
    if (def.name == name) return &def;
    if (!name.empty() && def.name.starts_with(name)) candidates.push_back(&def);
  }
  if (candidates.empty()) return Getopt(fmt::format("unrecognized option '{}'", word));
  for (const CatalogOption* def : candidates) {
    if (def->canonical() == candidates[0]->canonical() && def->arg == candidates[0]->arg) continue;
    std::string names;
    for (const CatalogOption* c : candidates) names += fmt::format(" '--{}'", c->name);
    return Getopt(fmt::format("option '{}' is ambiguous; possibilities:{}", word, names));
  }
  return candidates[0];
}

const CatalogOption* FindShort(char c, JobCommand command) {
  for (const CatalogOption& def : SlurmOptionCatalog())
    if (c != '\0' && def.short_name == c && Takes(def, command)) return &def;
  return nullptr;
}

// What an option does with its value: its setter, or for an option the catalog marks ignored,
// a note in `ignored`.
Status Apply(const CatalogOption& def, const Value& value, const ParseContext& ctx,
             SubmitOptions* out) {
  if (def.handling == Handling::kIgnored) {
    out->ignored.push_back(value ? fmt::format("--{}={}", def.name, *value)
                                 : fmt::format("--{}", def.name));
    return Status::Ok();
  }
  internal::Setter set = internal::FindSetter(def.canonical());
  if (set == nullptr) return InvalidArgument(fmt::format("error: --{} has no setter", def.name));
  return set(value, ctx, out);
}

// getopt_long-style parsing of `args` into `out`, stopping at the first non-option (Slurm's
// "+" option string). In directive mode a non-option word is an error; otherwise it and all
// later words are positional.
Status ParseTokens(const std::vector<std::string>& args, const ParseContext& ctx,
                   bool directives, SubmitOptions* out) {
  size_t i = 0;
  auto positional_from = [&](size_t first) -> Status {
    if (directives && first < args.size())
      return InvalidArgument(
          fmt::format("error: Invalid directive found in batch script: {}", args[first]));
    out->positional.assign(args.begin() + static_cast<std::ptrdiff_t>(first), args.end());
    return Status::Ok();
  };
  while (i < args.size()) {
    const std::string& word = args[i];
    if (word == "--") return positional_from(i + 1);
    if (word.size() > 2 && word.compare(0, 2, "--") == 0) {
      size_t eq = word.find('=');
      std::string_view name =
          std::string_view(word).substr(2, eq == std::string::npos ? eq : eq - 2);
      SWELL_ASSIGN_OR_RETURN(const CatalogOption* def, FindLong(name, word, ctx.command));
      Value value;
      if (eq != std::string::npos) value = word.substr(eq + 1);
      switch (def->arg) {
        case ArgKind::kNone:
          if (value)
            return Getopt(fmt::format("option '--{}' doesn't allow an argument", def->name));
          break;
        case ArgKind::kRequired:
          if (!value) {
            if (i + 1 >= args.size())
              return Getopt(fmt::format("option '--{}' requires an argument", def->name));
            value = args[++i];
          }
          break;
        case ArgKind::kOptional:
          break;  // only "--opt=value" carries the value, as with getopt_long
      }
      SWELL_RETURN_IF_ERROR(Apply(*def, value, ctx, out));
      ++i;
      continue;
    }
    if (word.size() > 1 && word[0] == '-') {
      // One or more bundled short options; one that takes a value ends the bundle.
      for (size_t j = 1; j < word.size(); ++j) {
        const CatalogOption* def = FindShort(word[j], ctx.command);
        if (def == nullptr) return Getopt(fmt::format("invalid option -- '{}'", word[j]));
        if (def->arg == ArgKind::kNone) {
          SWELL_RETURN_IF_ERROR(Apply(*def, std::nullopt, ctx, out));
          continue;
        }
        Value value;
        if (j + 1 < word.size()) {
          value = word.substr(j + 1);
        } else if (def->arg == ArgKind::kRequired) {
          if (i + 1 >= args.size())
            return Getopt(fmt::format("option requires an argument -- '{}'", word[j]));
          value = args[++i];
        }
        SWELL_RETURN_IF_ERROR(Apply(*def, value, ctx, out));
        break;
      }
      ++i;
      continue;
    }
    return positional_from(i);
  }
  return Status::Ok();
}

// What Slurm checks of the options together.
Status ValidateCombination(const SubmitOptions& o) {
  if (o.wrap && !o.positional.empty())
    return InvalidArgument("error: Script arguments not permitted with --wrap option");
  if ((o.mem_mb ? 1 : 0) + (o.mem_per_cpu_mb ? 1 : 0) + (o.mem_per_gpu_mb ? 1 : 0) > 1)
    return InvalidArgument("fatal: --mem, --mem-per-cpu, and --mem-per-gpu are mutually exclusive.");
  if (o.deadline && o.begin && *o.deadline < *o.begin)
    return InvalidArgument("error: Incompatible begin and deadline time specification");
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
  take(top.mem_per_cpu_mb, &base->mem_per_cpu_mb);
  take(top.mem_per_gpu_mb, &base->mem_per_gpu_mb);
  take(top.gpus_per_node, &base->gpus_per_node);
  take(top.gpus_per_task, &base->gpus_per_task);
  take(top.gpus_per_socket, &base->gpus_per_socket);
  take(top.sockets_per_node, &base->sockets_per_node);
  take(top.cpus_per_gpu, &base->cpus_per_gpu);
  take(top.account, &base->account);
  take(top.qos, &base->qos);
  take(top.wckey, &base->wckey);
  take(top.constraint, &base->constraint);
  take(top.licenses, &base->licenses);
  take(top.reservation, &base->reservation);
  take(top.mail_type, &base->mail_type);
  take(top.mail_user, &base->mail_user);
  take(top.signal, &base->signal);
  take(top.open_mode, &base->open_mode);
  take(top.time_min, &base->time_min);
  take(top.deadline, &base->deadline);
  take(top.kill_on_invalid_dep, &base->kill_on_invalid_dep);
  take(top.cpu_bind, &base->cpu_bind);
  take(top.hint, &base->hint);
  take(top.distribution, &base->distribution);
  // Values that go together move together.
  if (top.nodes_min) base->nodes_min = top.nodes_min, base->nodes_max = top.nodes_max;
  if (top.array) base->array = top.array, base->array_text = top.array_text;
  if (top.begin) base->begin = top.begin, base->begin_text = top.begin_text;
  if (top.requeue || top.no_requeue) base->requeue = top.requeue, base->no_requeue = top.no_requeue;
  // A flag either side sets stays set.
  for (bool SubmitOptions::*flag :
       {&SubmitOptions::exclusive, &SubmitOptions::label, &SubmitOptions::kill_on_bad_exit,
        &SubmitOptions::hold, &SubmitOptions::quiet, &SubmitOptions::parsable, &SubmitOptions::wait,
        &SubmitOptions::help, &SubmitOptions::usage, &SubmitOptions::version,
        &SubmitOptions::test_only})
    base->*flag = base->*flag || top.*flag;
  base->ignored.insert(base->ignored.end(), top.ignored.begin(), top.ignored.end());
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

Result<SubmitOptions> ParseSubmitArgs(const std::vector<std::string>& args, Time now,
                                      JobCommand command) {
  SubmitOptions options;
  SWELL_RETURN_IF_ERROR(ParseTokens(args, {now, command}, /*directives=*/false, &options));
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
                                      const SubmitOptions& cli, std::string_view /*script_name*/,
                                      Time now) {
  std::vector<std::string> words;
  words.reserve(directives.size());
  for (const DirectiveToken& token : directives) words.push_back(token.text);
  SubmitOptions merged;
  SWELL_RETURN_IF_ERROR(ParseTokens(words, {now, kSbatch}, /*directives=*/true, &merged));
  Overlay(cli, &merged);
  merged.positional = cli.positional;
  SWELL_RETURN_IF_ERROR(ValidateCombination(merged));
  return merged;
}

namespace {

// The words each command uses for a submission the controller refused.
std::string_view RefusalWords(JobCommand command) {
  return command == kSalloc ? "Job submit/allocate failed: "
         : command == kSrun ? "Unable to allocate resources: "
                            : "Batch job submission failed: ";
}

}  // namespace

std::string OptionErrorMessage(const Status& error) {
  std::string_view m = error.message();
  for (std::string_view prefix : {"error: ", "fatal: ", "refused: "})
    if (m.starts_with(prefix)) return std::string(m.substr(prefix.size()));
  return std::string(m);
}

std::string RenderOptionError(const Status& error, JobCommand command, int* exit_code) {
  std::string_view cmd = CommandName(command);
  std::string_view m = error.message();
  if (m.starts_with("refused: ")) {
    *exit_code = 1;
    return fmt::format("{}: error: {}{}\n", cmd, RefusalWords(command), m.substr(9));
  }
  if (m.starts_with("error: ") || m.starts_with("fatal: ")) {
    // parse_int and fatal() exit 1; the other refusals exit(-1).
    *exit_code = m.starts_with("fatal: ") || m.starts_with("error: Invalid numeric value") ||
                         m.starts_with("error: Numeric argument")
                     ? 1
                     : 255;
    return fmt::format("{}: {}\n", cmd, m);
  }
  *exit_code = 255;
  return fmt::format("{}: {}\nTry \"{} --help\" for more information\n", cmd, m, cmd);
}

std::string SubmitUsage(JobCommand command) {
  std::string out = "Options:\n";
  for (const CatalogOption& def : SlurmOptionCatalog()) {
    if (!Takes(def, command) || def.handling == Handling::kIgnored) continue;
    std::string left = def.short_name != '\0' ? fmt::format("  -{}, ", def.short_name) : "      ";
    left += fmt::format("--{}", def.name);
    if (def.arg == ArgKind::kRequired) left += fmt::format("={}", def.metavar);
    if (def.arg == ArgKind::kOptional) left += fmt::format("[={}]", def.metavar);
    out += fmt::format("{:<36} {}\n", left, def.note);
  }
  out += "Accepted and ignored, as on a cluster without the feature:\n ";
  size_t width = 1;
  for (const CatalogOption& def : SlurmOptionCatalog()) {
    if (!Takes(def, command) || def.handling != Handling::kIgnored) continue;
    std::string word = fmt::format(" --{}", def.name);
    if (width + word.size() > 96) out += "\n ", width = 1;
    out += word;
    width += word.size();
  }
  return out + "\n";
}

}  // namespace swell::cli
