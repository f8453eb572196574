#include "cli/slurm_args.h"

#include <getopt.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <limits>

#include "cli/job_state.h"
#include "common/hostlist.h"
#include "common/slurm_format.h"
#include "common/text.h"

namespace swell::cli::slurm {
namespace {

// Ids of options that only have a long form.
enum LongOnly : int { kHelp = 0x100, kUsage, kJson, kMe, kHide };

std::string Try(std::string_view prog) {
  return "Try \"" + std::string(prog) + " --help\" for more information";
}

// One option of a command. Options with a target are handled here: a flag is set, a text
// option keeps its argument, a list option splits it at commas; the others go to the
// command's handler.
struct Opt {
  int id;                 // the short letter, or a LongOnly id
  const char* name;       // the long name; nullptr when there is none
  int arg = no_argument;  // no_argument, required_argument or optional_argument
  bool* flag = nullptr;
  std::optional<std::string>* text = nullptr;
  std::vector<std::string>* list = nullptr;
  std::vector<std::string>* hosts = nullptr;  // a host list, expanded
};

Opt Flag(int id, const char* name, bool* flag) { return {id, name, no_argument, flag}; }
Opt Text(int id, const char* name, std::optional<std::string>* text) {
  return {id, name, required_argument, nullptr, text};
}
Opt List(int id, const char* name, std::vector<std::string>* list) {
  return {id, name, required_argument, nullptr, nullptr, list};
}
Opt HostList(int id, const char* name, std::vector<std::string>* hosts) {
  return {id, name, required_argument, nullptr, nullptr, nullptr, hosts};
}
Opt Value(int id, const char* name, int arg = required_argument) { return {id, name, arg}; }

// Runs getopt_long over `args` as `prog` would see them, with `opts` and the options every
// command has. `on` handles the options without a target (getopt's id and the argument or
// nullptr) and may refuse one with a message. Returns the positional arguments.
Result<std::vector<std::string>> GetOpt(std::string_view prog, const Args& args,
                                        const std::vector<Opt>& opts, CommonOptions* common,
                                        const std::function<Status(int, const char*)>& on,
                                        const char* mode = "") {
  std::vector<Opt> all = opts;
  all.push_back(Flag(kHelp, "help", &common->help));
  all.push_back(Flag(kUsage, "usage", &common->usage));
  all.push_back(Flag('V', "version", &common->version));
  all.push_back(Value('v', "verbose", no_argument));
  std::string short_options = mode;
  std::vector<struct option> long_options;
  for (const auto& o : all) {
    if (o.id < 0x100 && short_options.find(static_cast<char>(o.id)) == std::string::npos) {
      short_options += static_cast<char>(o.id);
      if (o.arg != no_argument) short_options += o.arg == optional_argument ? "::" : ":";
    }
    if (o.name) long_options.push_back({o.name, o.arg, nullptr, o.id});
  }
  long_options.push_back({nullptr, 0, nullptr, 0});
  std::vector<std::string> storage = {std::string(prog)};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(storage.size());
  optind = 0;  // glibc: start over, also re-reading the option string's mode
  opterr = 1;
  for (;;) {
    int id = getopt_long(argc, argv.data(), short_options.c_str(), long_options.data(), nullptr);
    if (id == -1) break;
    if (id == '?' || id == ':') return InvalidArgument(Try(prog));
    if (id == 'v') {
      ++common->verbose;
      continue;
    }
    auto it = std::find_if(all.begin(), all.end(), [&](const Opt& o) { return o.id == id; });
    if (it == all.end()) return InvalidArgument(Try(prog));
    if (it->flag) {
      *it->flag = true;
    } else if (it->text) {
      *it->text = optarg;
    } else if (it->list) {
      *it->list = SplitNonEmpty(optarg, ',');
    } else if (it->hosts) {
      auto hosts = ExpandHostList(optarg);
      if (!hosts.ok())
        return InvalidArgument(std::string(prog) + ": error: '" + optarg +
                               "' invalid entry for --" + it->name);
      *it->hosts = *hosts;
    } else {
      Status s = on(id, optarg);
      if (!s.ok()) return s;
    }
  }
  std::vector<std::string> rest;
  for (int i = optind; i < argc; ++i) rest.emplace_back(argv[static_cast<size_t>(i)]);
  return rest;
}

Status Error(std::string_view prog, const std::string& message) {
  return InvalidArgument(std::string(prog) + ": error: " + message);
}

// The user given to --me.
std::string Me() { return std::to_string(getuid()); }

}  // namespace

std::optional<int> SignalNumber(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    int n = 0;
    for (char c : text) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || n > 1000) return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n >= 1 && n <= 64 ? std::optional<int>(n) : std::nullopt;
  }
  std::string name = ToUpper(text);
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  static const std::pair<const char*, int> kSignals[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ABRT", SIGABRT}, {"KILL", SIGKILL},
      {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CHLD", SIGCHLD}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
      {"PIPE", SIGPIPE}, {"URG", SIGURG},   {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
      {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU}, {"XCPU", SIGXCPU}};
  for (const auto& [n, v] : kSignals)
    if (name == n) return v;
  return std::nullopt;
}

// ---- squeue ----------------------------------------------------------------------------------

Result<SqueueOptions> ParseSqueueArgs(const Args& args) {
  SqueueOptions o;
  bool ignored = false, jobs_flag = false;
  auto add_jobs = [&](const char* arg) -> Status {
    for (const auto& item : SplitNonEmpty(arg, ',')) {
      auto ref = ParseJobRef(item);
      if (!ref.ok()) return Error("squeue", "Invalid job id: " + item);
      o.jobs.push_back(*ref);
    }
    return Status::Ok();
  };
  std::vector<Opt> opts = {Flag('a', "all", &ignored),
                           Flag(kHide, "hide", &ignored),
                           Flag('h', "noheader", &o.no_header),
                           Flag('l', "long", &o.long_format),
                           Flag('r', "array", &o.one_per_task),
                           Flag('s', "steps", &o.steps),
                           Opt{kJson, "json", optional_argument, &o.json},
                           List('n', "name", &o.names),
                           List('p', "partition", &o.partitions),
                           List('p', "partitions", &o.partitions),
                           List('u', "user", &o.users),
                           List('u', "users", &o.users),
                           Text('o', "format", &o.format),
                           Value('j', "jobs", optional_argument),
                           Value('t', "states"),
                           HostList('w', "nodelist", &o.nodes),
                           Value(kMe, "me", no_argument)};
  auto on = [&](int id, const char* arg) -> Status {
    switch (id) {
      case 'j':
        jobs_flag = true;
        return arg ? add_jobs(arg) : Status::Ok();
      case 't': {
        auto states = ParseJobStates(arg);
        if (!states.ok())
          return InvalidArgument(
              "squeue: error: Invalid job state specified: " + states.status().message() +
              "\nsqueue: error: Valid job states include: " + ValidJobStates() + "\n");
        o.all_states = !states->has_value();
        o.states = *states;
        return Status::Ok();
      }
      default:  // kMe
        o.users = {Me()};
        return Status::Ok();
    }
  };
  auto rest = GetOpt("squeue", args, opts, &o, on);
  if (!rest.ok()) return rest.status();
  size_t next = 0;
  if (jobs_flag && next < rest->size()) {
    Status s = add_jobs((*rest)[next++].c_str());
    if (!s.ok()) return s;
  }
  if (next < rest->size())
    return InvalidArgument("squeue: error: Unrecognized option: " + (*rest)[next] + "\n" +
                           Try("squeue"));
  if (o.long_format && o.format)
    return InvalidArgument(
        "squeue: fatal: Options -o(--format) and -l(--long) are mutually exclusive. Please "
        "remove one and retry.");
  return o;
}

// ---- sinfo -----------------------------------------------------------------------------------

namespace {

// Slurm's node state numbers (slurm.h): base states, the two drain combinations, then flags.
constexpr uint32_t kStateUnknown = 0, kStateDown = 1, kStateIdle = 2, kStateAlloc = 3,
                   kStateMixed = 5, kStateFuture = 6;
constexpr uint32_t kFlagDrain = 1u << 9, kFlagCompleting = 1u << 10, kFlagNoRespond = 1u << 11,
                   kFlagPoweredDown = 1u << 12, kFlagFail = 1u << 13, kFlagPoweringUp = 1u << 14,
                   kFlagMaint = 1u << 15, kFlagPoweringDown = 1u << 18, kFlagCloud = 1u << 7,
                   kFlagReserved = 1u << 5, kFlagPlanned = 1u << 21;
constexpr uint32_t kDrained = kFlagDrain | kStateIdle, kDraining = kFlagDrain | kStateAlloc;

struct NodeStateName {
  const char* name;
  uint32_t value;
};

// In the order sinfo tries them: a prefix of a name selects its state ("d" is down).
constexpr NodeStateName kNodeStateNames[] = {
    {"UNKNOWN", kStateUnknown},
    {"UNK", kStateUnknown},
    {"DOWN", kStateDown},
    {"IDLE", kStateIdle},
    {"ALLOCATED", kStateAlloc},
    {"ALLOC", kStateAlloc},
    {"MIXED", kStateMixed},
    {"MIX", kStateMixed},
    {"FUTURE", kStateFuture},
    {"FUTR", kStateFuture},
    {"DRAIN", kFlagDrain},
    {"DRAINED", kDrained},
    {"DRAINING", kDraining},
    {"DRNG", kDraining},
    {"NOT_RESPONDING", kFlagNoRespond},
    {"POWERED_DOWN", kFlagPoweredDown},
    {"POWERING_UP", kFlagPoweringUp},
    {"POWERING_DOWN", kFlagPoweringDown},
    {"CLOUD", kFlagCloud},
    {"COMPLETING", kFlagCompleting},
    {"COMP", kFlagCompleting},
    {"FAIL", kFlagFail},
    {"MAINT", kFlagMaint},
    {"RESERVED", kFlagReserved},
    {"RESV", kFlagReserved},
    {"PLANNED", kFlagPlanned},
    {"PLND", kFlagPlanned},
    {"NO_RESPOND", kFlagNoRespond},
};

std::optional<uint32_t> NodeStateValue(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string up = ToUpper(text);
  for (const auto& s : kNodeStateNames)
    if (std::string_view(s.name).substr(0, up.size()) == up) return s.value;
  return std::nullopt;
}

std::string ValidNodeStates() {
  std::string out;
  for (const auto& s : kNodeStateNames) out += (out.empty() ? "" : ",") + ToLower(s.name);
  return out;
}

}  // namespace

bool NodeMatchesStates(const NodeState& state, const std::vector<uint32_t>& states) {
  if (states.empty()) return true;
  uint32_t base = state.order & 0xf, flags = state.order & ~0xfu;
  for (uint32_t s : states) {
    if (s == kDrained && (flags & kFlagDrain) && base == kStateIdle) return true;
    if (s == kDraining && (flags & kFlagDrain) && (base == kStateAlloc || base == kStateMixed))
      return true;
    if (s == kDrained || s == kDraining) continue;
    if (s <= 0xf ? base == s && !(flags & kFlagDrain) : (flags & s) != 0) return true;
  }
  return false;
}

Result<SinfoOptions> ParseSinfoArgs(const Args& args) {
  SinfoOptions o;
  bool ignored = false;
  std::vector<Opt> opts = {
      Flag('a', "all", &ignored),           Flag('e', "exact", &ignored),
      Flag(kHide, "hide", &ignored),        Flag('d', "dead", &o.dead),
      Flag('h', "noheader", &o.no_header),  Flag('l', "long", &o.long_format),
      Flag('N', "Node", &o.node_oriented),  Flag('r', "responding", &o.responding),
      Flag('s', "summarize", &o.summarize), Opt{kJson, "json", optional_argument, &o.json},
      Text('o', "format", &o.format),       List('p', "partition", &o.partitions),
      HostList('n', "nodes", &o.nodes),     Value('t', "states")};
  auto on = [&](int, const char* arg) -> Status {
    // -t: states joined by ',', '&' or '+' (swell matches any of them).
    o.states.clear();
    if (std::string_view(arg) == "all" || std::string_view(arg) == "ALL") return Status::Ok();
    std::string list = arg;
    for (char& c : list)
      if (c == '&' || c == '+') c = ',';
    for (const auto& item : SplitNonEmpty(list, ',')) {
      auto v = NodeStateValue(item);
      if (!v)
        return InvalidArgument("sinfo: error: Bad state string: \"" + item +
                               "\"\nsinfo: error: valid states: " + ValidNodeStates());
      o.states.push_back(*v);
    }
    return Status::Ok();
  };
  auto rest = GetOpt("sinfo", args, opts, &o, on);
  if (!rest.ok()) return rest.status();
  if (!rest->empty())
    return InvalidArgument("sinfo: error: Unrecognized option: " + rest->front() + "\n" +
                           Try("sinfo"));
  return o;
}

// ---- scancel ---------------------------------------------------------------------------------

Result<ScancelOptions> ParseScancelArgs(const Args& args) {
  ScancelOptions o;
  bool ignored = false;  // -b, -f: a swell job is its batch step
  std::vector<Opt> opts = {Flag('b', "batch", &ignored),  Flag('f', "full", &ignored),
                           Flag('Q', "quiet", &o.quiet),  Text('n', "name", &o.name),
                           Text('n', "jobname", &o.name), Text('p', "partition", &o.partition),
                           Text('u', "user", &o.user),    Value('s', "signal"),
                           Value('t', "state"),           HostList('w', "nodelist", &o.nodes),
                           Value(kMe, "me", no_argument)};
  auto on = [&](int id, const char* arg) -> Status {
    switch (id) {
      case 's': {
        auto sig = SignalNumber(arg);
        if (!sig) return InvalidArgument("Unknown job signal: " + std::string(arg));
        o.signal = *sig;
        return Status::Ok();
      }
      case 't': {
        auto states = ParseJobStates(arg);
        std::optional<std::string> state;
        if (states.ok() && states->has_value() && (*states)->size() == 1)
          state = *(*states)->begin();
        if (!state || (*state != "PENDING" && *state != "RUNNING" && *state != "SUSPENDED"))
          return InvalidArgument("Invalid job state specified: " + std::string(arg) +
                                 "\nValid job states are PENDING, RUNNING, and SUSPENDED");
        o.state = state;
        return Status::Ok();
      }
      default:  // kMe
        o.user = Me();
        return Status::Ok();
    }
  };
  auto rest = GetOpt("scancel", args, opts, &o, on);
  if (!rest.ok()) return rest.status();
  for (const auto& word : *rest) {
    // Commas separate ids, except inside "12_[1,3]".
    std::vector<std::string> items;
    std::string cur;
    int depth = 0;
    for (char c : word) {
      if (c == '[') ++depth;
      if (c == ']') --depth;
      if (c == ',' && depth == 0) {
        items.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    items.push_back(cur);
    for (const auto& item : items) {
      auto bad = Error("scancel", "Invalid job id " + item);
      size_t bracket = item.find("_[");
      if (bracket != std::string::npos) {
        auto id = ParseJobRef(item.substr(0, bracket));
        if (!id.ok() || item.back() != ']') return bad;
        auto spec = ParseArraySpec(item.substr(bracket + 2, item.size() - bracket - 3),
                                   std::numeric_limits<int64_t>::max());
        if (!spec.ok() || spec->max_running) return bad;
        for (int64_t i : spec->indices) o.jobs.push_back({id->id, i});
        continue;
      }
      auto ref = ParseJobRef(item, /*steps=*/true);
      if (!ref.ok() || (ref->step && ref->index)) return bad;
      o.jobs.push_back(*ref);
    }
  }
  if (o.jobs.empty() && !o.name && !o.partition && !o.user && !o.state && o.nodes.empty() &&
      !o.help && !o.usage && !o.version)
    return Error("scancel", "No job identification provided");
  return o;
}

// ---- scontrol --------------------------------------------------------------------------------

Result<ScontrolOptions> ParseScontrolArgs(const Args& args) {
  ScontrolOptions o;
  bool ignored = false;
  // Long options Slurm's scontrol has that change nothing here.
  enum : int { kFederation = 0x200, kHide, kLocal, kSibling };
  std::vector<Opt> opts = {Flag('a', "all", &o.all),
                           Flag('d', "details", &o.details),
                           Flag('F', "future", &ignored),
                           Flag('h', nullptr, &o.help),
                           Flag('o', "oneliner", &o.one_liner),
                           Flag('Q', "quiet", &o.quiet),
                           Flag(kFederation, "federation", &ignored),
                           Flag(kLocal, "local", &ignored),
                           Flag(kSibling, "sibling", &ignored),
                           Value(kHide, "hide", no_argument),
                           Value('u', "uid")};
  // Options are permuted out of the command's words, except after "setdebugflags" (Slurm
  // compares its first 8 letters), whose words look like options.
  Args head = args, tail;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].size() >= 8 && EqualsIgnoreCase(args[i].substr(0, 8), "setdebug")) {
      head.assign(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(i));
      tail.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
  }
  auto rest = GetOpt("scontrol", head, opts, &o, [&](int id, const char* arg) {
    if (id == kHide) {
      o.all = false;
      o.details = false;
    } else if (id == 'u' && (!arg || !*arg)) {
      return InvalidArgument(std::string("scontrol: error: --uid=\"") + (arg ? arg : "") +
                             "\" invalid");
    }
    return Status::Ok();
  });
  if (!rest.ok()) return rest.status();
  o.command = *rest;
  o.command.insert(o.command.end(), tail.begin(), tail.end());
  return o;
}

}  // namespace swell::cli::slurm
