#pragma once

// Slurm's wall-clock times in the local time zone: --begin values in, "YYYY-MM-DDTHH:MM:SS"
// stamps out (FormatTime's stamps are valid --begin values).
//
// Pure and thread-safe apart from reading the process time zone (TZ) through
// localtime_r/mktime; "now" is passed in. Errors are InvalidArgument with a one-line message
// that quotes the input and lists the accepted forms.

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace swell {

// Parses a Slurm --begin value relative to `now`, in the process's local time zone. Forms
// (keywords are case-insensitive; a date and a time may be combined, separated by blanks, or
// by 'T' / '-' after a date, e.g. "2024-01-20T12:34", "01/20-12:34", "tomorrow noon"):
//   now | now+N[unit] | now-N[unit]    unit: second(s) (default), minute(s), hour(s), day(s),
//                                      week(s); blanks are allowed around '+' and the unit
//   HH:MM[:SS] [AM|PM]                 today if still ahead of `now`, otherwise tomorrow
//   midnight | noon | elevenses | fika | teatime     00:00, 12:00, 11:00, 15:00, 16:00
//   today | tomorrow                   date only (time defaults to 00:00:00)
//   YYYY-MM-DD                         explicit date
//   MM/DD[/YY] | MM.DD[.YY] | MMDD[YY] without a year: this year if still ahead, else next
//   uts<seconds since the epoch>       an absolute instant (as Slurm's "uts" form)
// "now" cannot be combined with other items. Dates that do not exist (02/30) are rejected.
// The result has whole-second precision except for the "now" forms, which keep `now`'s
// milliseconds. A result in the past is allowed (the job is simply eligible at once).
Result<Time> ParseBeginTime(std::string_view text, Time now);

// "YYYY-MM-DDTHH:MM:SS" in local time (sub-seconds truncated); kNever gives "Unknown".
std::string FormatTime(Time t);

}  // namespace swell
