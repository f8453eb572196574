#include "cli/submit_option_setters.h"

// One setter per option swell implements or records, with Slurm's parsing and messages
// (src/common/slurm_opt.c and proc_args.c of Slurm 22.05-24.05).

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "common/local_time.h"
#include "common/text.h"

namespace swell::cli::internal {
namespace {

Status Error(std::string_view message) {
  return InvalidArgument(fmt::format("error: {}", message));
}

// "error: Invalid --NAME specification", Slurm's word for most bad values.
Status Invalid(std::string_view option) {
  return Error(fmt::format("Invalid --{} specification", option));
}

// Sets `field` to the option's value as written (Slurm keeps strings as given, empty ones too).
#define SWELL_STRING(field)                                             \
  [](const Value& v, const ParseContext&, SubmitOptions* o) -> Status { \
    o->field = v.value_or("");                                          \
    return Status::Ok();                                                \
  }

#define SWELL_FLAG(field)                                             \
  [](const Value&, const ParseContext&, SubmitOptions* o) -> Status { \
    o->field = true;                                                  \
    return Status::Ok();                                              \
  }

// `field` from PARSE, an expression of the value `v` and the context `c` that gives a Result.
#define SWELL_PARSED(field, parse)                                                         \
  [](const Value& v, [[maybe_unused]] const ParseContext& c, SubmitOptions* o) -> Status { \
    SWELL_ASSIGN_OR_RETURN(o->field, parse);                                               \
    return Status::Ok();                                                                   \
  }

// `field` from PARSE, an expression of `v` and `c` that gives an optional; "Invalid --NAME
// specification" when it gives none.
#define SWELL_CHECKED(field, name, parse)                                                  \
  [](const Value& v, [[maybe_unused]] const ParseContext& c, SubmitOptions* o) -> Status { \
    o->field = parse;                                                                      \
    return o->field ? Status::Ok() : Invalid(name);                                        \
  }

// parse_int(OPTION, value, positive) into `field`.
#define SWELL_INT(field, option, positive) SWELL_PARSED(field, SlurmInt(option, *v, positive))
// str_to_mbytes into `field`, "Invalid --NAME specification" when it is not a size.
#define SWELL_MBYTES(field, name) SWELL_CHECKED(field, name, SlurmMegabytes(*v))
// A gpu count "[type:]N" into `field`.
#define SWELL_GPUS(field) SWELL_PARSED(field, ParseGpuCount(*v))

// A time as --begin takes it (parse_time) into `field`; "Invalid --NAME specification".
Status SetTime(std::string_view name, const Value& v, const ParseContext& c,
               std::optional<Time>* field) {
  Result<Time> t = ParseBeginTime(*v, c.now);
  if (!t.ok()) return Invalid(name);
  *field = *t;
  return Status::Ok();
}

Status SetNodes(const Value& v, const ParseContext&, SubmitOptions* o) {
  // verify_node_count: "N" or "MIN-MAX", each with an optional k/m multiplier.
  auto count = [](std::string_view text) -> std::optional<int> {
    std::string_view digits = text;
    int64_t mult = 1;
    if (!text.empty() && (text.back() == 'k' || text.back() == 'K')) mult = 1024;
    if (!text.empty() && (text.back() == 'm' || text.back() == 'M')) mult = 1024 * 1024;
    if (mult > 1) digits.remove_suffix(1);
    auto n = ParseDigits(digits);
    if (!n || *n * mult > INT32_MAX) return std::nullopt;
    return static_cast<int>(*n * mult);
  };
  const std::string& text = *v;
  size_t dash = text.find('-');
  std::string_view lo_text = std::string_view(text).substr(0, dash);
  std::optional<int> lo = count(lo_text);
  if (!lo) return Error(fmt::format("\"{}\" is not a valid node count", lo_text));
  int hi = *lo;
  if (dash != std::string::npos) {
    std::string_view hi_text = std::string_view(text).substr(dash + 1);
    std::optional<int> h = count(hi_text);
    if (!h) return Error(fmt::format("\"{}\" is not a valid node count", hi_text));
    hi = *h;
    if (hi != 0 && hi < *lo)
      return Error(
          fmt::format("Maximum node count {} is less than minimum node count {}", hi, *lo));
  }
  if (*lo == 0) return InvalidArgument("refused: Node count specification invalid");
  o->nodes_min = *lo;
  o->nodes_max = hi == 0 ? *lo : hi;
  return Status::Ok();
}

Status SetNice(const Value& v, const ParseContext&, SubmitOptions* o) {
  constexpr long long kMaxNice = 2147483645;  // Slurm's NICE_OFFSET - 3
  long long nice = v ? std::strtoll(v->c_str(), nullptr, 10) : 100;
  if (std::llabs(nice) > kMaxNice)
    return Error(fmt::format("Invalid --nice value, out of range (+/- {})", kMaxNice));
  o->nice = static_cast<int>(nice);
  return Status::Ok();
}

Status SetExclusive(const Value& v, const ParseContext&, SubmitOptions* o) {
  // user and mcs share nodes only with the user's (group's) jobs: swell takes whole nodes.
  if (!v || EqualsIgnoreCase(*v, "exclusive") || EqualsIgnoreCase(*v, "user") ||
      EqualsIgnoreCase(*v, "mcs")) {
    o->exclusive = true;
  } else if (EqualsIgnoreCase(*v, "oversubscribe")) {
    o->exclusive = false;
  } else {
    return Invalid("exclusive");
  }
  return Status::Ok();
}

Status SetRootOnly(std::string_view option) {
  if (geteuid() != 0) return Error(fmt::format("--{} only permitted by root user", option));
  return Status::Ok();
}

struct NamedSetter {
  std::string_view name;
  Setter set;
};

// Sorted by name.
const NamedSetter kSetters[] = {
    {"account", SWELL_STRING(account)},
    {"array",
     [](const Value& v, const ParseContext&, SubmitOptions* o) -> Status {
       auto spec = ParseArraySpec(*v);
       if (!spec.ok()) return InvalidArgument("refused: Invalid job array specification");
       o->array = *spec;
       o->array_text = *v;
       return Status::Ok();
     }},
    {"begin",
     [](const Value& v, const ParseContext& c, SubmitOptions* o) -> Status {
       SWELL_RETURN_IF_ERROR(SetTime("begin", v, c, &o->begin));
       o->begin_text = *v;
       return Status::Ok();
     }},
    {"chdir", SWELL_STRING(chdir)},
    {"comment", SWELL_STRING(comment)},
    {"constraint",
     [](const Value& v, const ParseContext&, SubmitOptions* o) -> Status {
       SWELL_RETURN_IF_ERROR(ConstraintFeatures(*v).status());
       o->constraint = *v;
       return Status::Ok();
     }},
    {"cpu-bind", SWELL_STRING(cpu_bind)},
    {"cpus-per-gpu", SWELL_INT(cpus_per_gpu, "--cpus-per-gpu", true)},
    {"cpus-per-task", SWELL_INT(cpus_per_task, "--cpus-per-task", true)},
    {"deadline",
     [](const Value& v, const ParseContext& c, SubmitOptions* o) -> Status {
       return SetTime("deadline", v, c, &o->deadline);
     }},
    {"dependency",
     [](const Value& v, const ParseContext&, SubmitOptions* o) -> Status {
       auto dep = ParseDependency(*v);
       if (!dep.ok()) return InvalidArgument("refused: Job dependency problem");
       o->dependency = *dep;
       return Status::Ok();
     }},
    {"distribution", SWELL_STRING(distribution)},
    {"error", SWELL_STRING(error)},
    {"exclude", SWELL_STRING(exclude)},
    {"exclusive", SetExclusive},
    {"export",
     [](const Value& v, const ParseContext&, SubmitOptions* o) -> Status {
       Status s = ValidateExportSpec(*v);
       if (!s.ok()) return Error(s.message());
       o->export_spec = *v;
       return Status::Ok();
     }},
    {"gid", [](const Value&, const ParseContext&, SubmitOptions*) { return SetRootOnly("gid"); }},
    {"gpus", SWELL_GPUS(gpus)},
    {"gpus-per-node", SWELL_GPUS(gpus_per_node)},
    {"gpus-per-socket", SWELL_GPUS(gpus_per_socket)},
    {"gpus-per-task", SWELL_GPUS(gpus_per_task)},
    {"gres", SWELL_PARSED(gpus_per_node, ParseGresGpus(*v))},
    {"help", SWELL_FLAG(help)},
    {"hint", SWELL_STRING(hint)},
    {"hold", SWELL_FLAG(hold)},
    {"input", SWELL_STRING(input)},
    {"job-name", SWELL_STRING(job_name)},
    {"kill-on-bad-exit",
     [](const Value& v, const ParseContext&, SubmitOptions* o) -> Status {
       int on = 1;
       if (v) {
         SWELL_ASSIGN_OR_RETURN(on, SlurmInt("--kill-on-bad-exit", *v, false));
       }
       o->kill_on_bad_exit = on != 0;
       return Status::Ok();
     }},
    {"kill-on-invalid-dep",
     [](const Value& v, const ParseContext&, SubmitOptions* o) -> Status {
       if (EqualsIgnoreCase(*v, "yes"))
         o->kill_on_invalid_dep = true;
       else if (EqualsIgnoreCase(*v, "no"))
         o->kill_on_invalid_dep = false;
       else
         return Invalid("kill-on-invalid-dep");
       return Status::Ok();
     }},
    {"label", SWELL_FLAG(label)},
    {"licenses", SWELL_STRING(licenses)},
    {"mail-type", SWELL_CHECKED(mail_type, "mail-type", ParseMailType(*v))},
    {"mail-user", SWELL_STRING(mail_user)},
    {"mem", SWELL_MBYTES(mem_mb, "mem")},
    {"mem-per-cpu", SWELL_MBYTES(mem_per_cpu_mb, "mem-per-cpu")},
    {"mem-per-gpu", SWELL_MBYTES(mem_per_gpu_mb, "mem-per-gpu")},
    {"mpi", SWELL_STRING(mpi)},
    {"multi-prog",
     [](const Value&, const ParseContext&, SubmitOptions*) {
       return Error("--multi-prog is not supported by swell (docs/slurm.md)");
     }},
    {"nice", SetNice},
    {"no-requeue",
     [](const Value&, const ParseContext&, SubmitOptions* o) -> Status {
       o->requeue = false;
       o->no_requeue = true;
       return Status::Ok();
     }},
    {"nodefile",
     [](const Value& v, const ParseContext&, SubmitOptions* o) -> Status {
       // A file of node names (NodeNames reads a value with a '/' as a file).
       o->nodelist = v->find('/') == std::string::npos ? "./" + *v : *v;
       return Status::Ok();
     }},
    {"nodelist", SWELL_STRING(nodelist)},
    {"nodes", SetNodes},
    {"ntasks", SWELL_INT(ntasks, "--ntasks", true)},
    {"ntasks-per-node", SWELL_INT(ntasks_per_node, "--ntasks-per-node", true)},
    {"open-mode",
     [](const Value& v, const ParseContext&, SubmitOptions* o) -> Status {
       char c = v->empty() ? '\0' : ToLower((*v)[0]);
       if (c == 'a')
         o->open_mode = "append";
       else if (c == 't')
         o->open_mode = "truncate";
       else
         return Invalid("open-mode");
       return Status::Ok();
     }},
    {"output", SWELL_STRING(output)},
    {"parsable", SWELL_FLAG(parsable)},
    {"partition", SWELL_STRING(partition)},
    {"qos", SWELL_STRING(qos)},
    {"quiet", SWELL_FLAG(quiet)},
    {"requeue",
     [](const Value&, const ParseContext&, SubmitOptions* o) -> Status {
       o->requeue = true;
       o->no_requeue = false;
       return Status::Ok();
     }},
    {"reservation", SWELL_STRING(reservation)},
    {"signal", SWELL_CHECKED(signal, "signal", ParseSignalSpec(*v, c.command == kSbatch))},
    {"sockets-per-node", SWELL_INT(sockets_per_node, "--sockets-per-node", true)},
    {"test-only", SWELL_FLAG(test_only)},
    {"time", SWELL_CHECKED(time_limit, "time", SlurmTimeLimit(*v))},
    {"time-min", SWELL_CHECKED(time_min, "time-min", SlurmTimeLimit(*v))},
    {"uid", [](const Value&, const ParseContext&, SubmitOptions*) { return SetRootOnly("uid"); }},
    {"usage", SWELL_FLAG(usage)},
    {"version", SWELL_FLAG(version)},
    {"wait", SWELL_FLAG(wait)},
    {"wckey", SWELL_STRING(wckey)},
    {"wrap", SWELL_STRING(wrap)},
};

#undef SWELL_STRING
#undef SWELL_FLAG
#undef SWELL_INT
#undef SWELL_MBYTES
#undef SWELL_GPUS
#undef SWELL_PARSED
#undef SWELL_CHECKED

}  // namespace

Setter FindSetter(std::string_view name) {
  for (const NamedSetter& s : kSetters)
    if (s.name == name) return s.set;
  return nullptr;
}

}  // namespace swell::cli::internal
