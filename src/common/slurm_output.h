#pragma once

// The output format strings of Slurm's listing commands (squeue -o, sinfo -o) and the column
// rules they print by. A format is literal text with fields "%[.][size]type[suffix]":
//
//   "%.18i %.9P %.8j"   job id right-justified in 18 columns, then " ", partition in 9, ...
//
//   size    minimum width; without it the value is printed whole
//   .       right-justify (the default is left); swell also takes printf's "-" for left
//   type    one letter; what it means is the command's business (squeue: i = job id, ...)
//   suffix  the literal text up to the next '%', printed after the field
//
// Text before the first '%' is printed at the start of every line. As in Slurm, "%%" and a
// trailing '%' print nothing. All functions are pure and thread-safe.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace swell {

struct OutputField {
  char type = 0;       // the letter; 0 when the token had none (e.g. "%.10" at the end)
  int width = 0;       // 0: as wide as the value
  bool right = false;  // '.': right-justified
  std::string suffix;  // literal text printed after the field
  std::string token;   // the field as written, without its '%' ("-.9P " -> ".9P ")

  bool operator==(const OutputField&) const = default;
};

struct OutputFormat {
  std::string prefix;  // literal text before the first field
  std::vector<OutputField> fields;

  bool operator==(const OutputFormat&) const = default;
};

// Splits a format string into its fields. Never fails: whether a type letter means anything is
// for the caller to decide (squeue reports an unknown one and prints its token literally).
// Widths above 1,000,000 are clamped to that.
OutputFormat ParseOutputFormat(std::string_view text);

// One value in its column, by Slurm's rule: width 0 prints the value whole; otherwise the value
// is padded with blanks to `width` (on the left when `right`), and when `cut` a longer value is
// cut to its first `width` characters (squeue cuts names and states, never node lists).
std::string PadField(std::string_view value, int width, bool right, bool cut = true);

// What one field prints: its text and whether PadField may cut it.
struct FieldText {
  std::string text;
  bool cut = true;
};

// One line (without a newline): the prefix, then each field as `value` gives it, padded by
// PadField, followed by its suffix.
std::string RenderLine(const OutputFormat& format,
                       const std::function<FieldText(const OutputField&)>& value);

// A duration in whole seconds as squeue's TIME and TIME_LIMIT columns print it: "M:SS",
// "H:MM:SS" from an hour on, "D-HH:MM:SS" from a day on (minutes and hours are not
// zero-padded at the front: "0:05", "1:02:03"). Negative values give "INVALID".
std::string FormatSeconds(int64_t seconds);

}  // namespace swell
