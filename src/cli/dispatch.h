#pragma once

// How `swell` and `swell-daemon` find the command named by their first argument: a table of
// names and functions. Header-only: the thin client and the daemon binary share it.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace swell::cli {

struct Command {
  std::string_view name;
  int (*run)(const std::vector<std::string>& args);
};

// Runs the command `name` from `table` with `args` (the arguments after the name); nullopt
// when the table has no such command.
inline std::optional<int> Dispatch(std::span<const Command> table, std::string_view name,
                                   const std::vector<std::string>& args) {
  for (const Command& c : table)
    if (c.name == name) return c.run(args);
  return std::nullopt;
}

}  // namespace swell::cli
