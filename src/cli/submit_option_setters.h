#pragma once

// Internal to submit_options.cc: what each option the catalog marks implemented, recorded or
// refused does to SubmitOptions. Setters return Slurm's message on a bad value (the
// conventions of submit_options.h).

#include <optional>
#include <string>
#include <string_view>

#include "cli/submit_options.h"

namespace swell::cli::internal {

struct ParseContext {
  Time now;
  JobCommand command = kSbatch;
};

using Value = std::optional<std::string>;  // an option's argument, if it has one
using Setter = Status (*)(const Value& value, const ParseContext& ctx, SubmitOptions* out);

// The setter of the option named `name` (its canonical name); nullptr when there is none.
Setter FindSetter(std::string_view name);

}  // namespace swell::cli::internal
