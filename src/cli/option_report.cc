// How the job commands report their options' errors, --help, --usage and --version.

#include <cstdio>

#include "cli/cli.h"
#include "cli/slurm_fields.h"
#include "cli/submit_options.h"

namespace swell::cli {

int FailOptions(const Voice& voice, JobCommand command, const Status& error) {
  if (!voice.slurm) return voice.Fail(OptionErrorMessage(error), 2);
  int code = 1;
  std::fputs(RenderOptionError(error, command, &code).c_str(), stderr);
  return code;
}

std::optional<int> PrintHelpOrVersion(const SubmitOptions& o, JobCommand command,
                                      const std::string& usage_line) {
  if (o.version) {
    std::printf("%s\n", slurm::kSlurmVersion);
    return 0;
  }
  if (o.usage) {
    std::printf("Usage: %s\n", usage_line.c_str());
    return 0;
  }
  if (o.help) {
    std::printf("Usage: %s\n%s", usage_line.c_str(), SubmitUsage(command).c_str());
    return 0;
  }
  return std::nullopt;
}

}  // namespace swell::cli
