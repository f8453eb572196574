// What every command shares: where the cluster lives, how to reach its head, how to report
// errors. Linked into both binaries (swell and swell-daemon).

#include <google/protobuf/util/json_util.h>
#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "cli/cli.h"
#include "common/files.h"
#include "common/process.h"
#include "common/secret.h"
#include "common/slurm_refusal.h"

namespace swell::cli {

std::string Home() {
  const char* h = getenv("SWELL_HOME");
  if (h && *h) return AbsolutePath(h, CurrentDir());
  const char* home = getenv("HOME");
  if (!home || !*home) {
    struct passwd* pw = getpwuid(getuid());
    home = pw ? pw->pw_dir : "/tmp";
  }
  return std::string(home) + "/.swell";
}

std::string HeadSocket(const std::string& home) { return home + "/head.sock"; }

std::string UserTlsDir() {
  if (const char* dir = getenv("SWELL_USER_TLS"); dir && *dir) return dir;
  const char* home = getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.swell/user-tls";
}

std::unique_ptr<rpc::HeadClient> Connect(const std::string& home) {
  const char* remote = getenv("SWELL_HEAD");
  if (remote && *remote) {
    const std::string dir = UserTlsDir();
    if (access((dir + "/user.crt").c_str(), R_OK) == 0)
      return rpc::HeadClient::Create(
          {remote, "", {dir + "/ca.crt", dir + "/user.crt", dir + "/user.key"}});
    auto secret = LoadSecret(home + "/secret");
    return rpc::HeadClient::Create({remote, secret.ok() ? *secret : ""});
  }
  return rpc::HeadClient::Create({"unix:" + HeadSocket(home), ""});
}

int Fail(const std::string& cmd, const std::string& message, int code) {
  std::fprintf(stderr, "swell %s: %s\n", cmd.c_str(), message.c_str());
  return code;
}

std::string ErrorText(const Status& status) {
  if (status.code() == Code::kUnavailable && status.message().find("connect") != std::string::npos) {
    std::string home = Home();
    pid_t head = ReadLivePid(home + "/head.pid");
    if (head == 0) return "no cluster is running in " + home + " (start one with `swell up`)";
    return "the head (pid " + std::to_string(head) + ") does not answer: " + status.message();
  }
  // One line: a refusal in Slurm's words has a line before its reason (common/slurm_refusal.h).
  std::string text(status.message());
  for (size_t nl; (nl = text.find('\n')) != std::string::npos;) text.replace(nl, 1, "; ");
  return text;
}

int Fail(const std::string& cmd, const Status& status, int code) {
  return Fail(cmd, ErrorText(status), code);
}

int Voice::Fail(const std::string& message, int code) const {
  if (!slurm) return cli::Fail(cmd, message, code);
  std::fprintf(stderr, "%s: error: %s\n", cmd.c_str(), message.c_str());
  return 1;
}

int Voice::Fail(const Status& status, int code) const { return Fail(ErrorText(status), code); }

int Voice::Refused(std::string_view failed_words, const Status& status) const {
  if (!slurm || status.code() == Code::kUnavailable)
    return slurm ? Fail(std::string(failed_words) + ErrorText(status))
                 : Fail(status, status.code() == Code::kInvalidArgument ? 2 : 1);
  for (const auto& line : slurm_refusal::SlurmLines(slurm_refusal::Decode(status.message()),
                                                    failed_words))
    std::fprintf(stderr, "%s: error: %s\n", cmd.c_str(), line.c_str());
  return 1;
}

std::optional<int> ParseFlags(CLI::App& app, const Args& args, const std::string& cmd) {
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them reversed
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      std::printf("%s", app.help().c_str());
      return 0;
    }
    return Fail(cmd, e.what(), 2);
  }
  return std::nullopt;
}

void PrintJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  std::printf("%s\n", out.c_str());
}

}  // namespace swell::cli
