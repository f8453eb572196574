#include "common/slurm_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <limits>
#include <tuple>
#include <utility>

namespace swell {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }
char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}

// Parses a non-empty run of decimal digits; nullopt on any other character or on overflow.
std::optional<int64_t> ParseDigits(std::string_view s) {
  if (!AllDigits(s)) return std::nullopt;
  int64_t value = 0;
  for (char c : s) {
    if (__builtin_mul_overflow(value, 10, &value) ||
        __builtin_add_overflow(value, c - '0', &value)) {
      return std::nullopt;
    }
  }
  return value;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

// Seconds since the epoch of `t`, rounded towards the past.
time_t FloorSeconds(Time t) {
  int64_t ms = ToMillis(t);
  int64_t s = ms / 1000;
  if (ms % 1000 < 0) --s;
  return static_cast<time_t>(s);
}

// ---- Time limits ----

constexpr char kTimeLimitForms[] = "accepted: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S or UNLIMITED";

Status BadTimeLimit(std::string_view text, std::string_view why) {
  return InvalidArgument(
      fmt::format("invalid time limit '{}': {} ({})", text, why, kTimeLimitForms));
}

// ---- Begin times ----

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

struct CivilDate {
  int year = 0;   // e.g. 2024
  int month = 0;  // 1-12
  int day = 0;    // 1-31
};

struct ClockTime {
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// The instant of `date` at `clock` in the local time zone (mktime picks DST as it applies).
std::optional<time_t> MakeLocal(const CivilDate& date, const ClockTime& clock) {
  std::tm tm{};
  tm.tm_year = date.year - 1900;
  tm.tm_mon = date.month - 1;
  tm.tm_mday = date.day;
  tm.tm_hour = clock.hour;
  tm.tm_min = clock.minute;
  tm.tm_sec = clock.second;
  tm.tm_isdst = -1;
  time_t t = std::mktime(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return t;
}

// The local calendar date `days` days after the one containing `t`.
std::optional<CivilDate> LocalDate(time_t t, int days) {
  std::tm tm{};
  if (localtime_r(&t, &tm) == nullptr) return std::nullopt;
  if (days != 0) {
    // Noon keeps the normalisation clear of DST transitions, which happen at night.
    tm.tm_mday += days;
    tm.tm_hour = 12;
    tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    if (std::mktime(&tm) == static_cast<time_t>(-1)) return std::nullopt;
  }
  return CivilDate{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

constexpr char kBeginForms[] =
    "accepted: now[+N[seconds|minutes|hours|days|weeks]], HH:MM[:SS] [AM|PM], midnight, noon, "
    "elevenses, fika, teatime, today, tomorrow, YYYY-MM-DD[THH:MM[:SS]], MM/DD[/YY]";

// A small scanner for --begin values. Items may appear in any order; at most one date and one
// time of day, and "now" only on its own.
class BeginTimeParser {
 public:
  BeginTimeParser(std::string_view text, Time now) : text_(text), now_(now) {}

  Result<Time> Parse() {
    if (text_.empty()) return Bad("empty value");
    if (text_.size() > 3 && EqualsIgnoreCase(text_.substr(0, 3), "uts")) {
      std::optional<int64_t> secs = ParseDigits(text_.substr(3));
      if (!secs || *secs > std::numeric_limits<int64_t>::max() / 1000) {
        return Bad("'uts' must be followed by seconds since the epoch");
      }
      return FromMillis(*secs * 1000);
    }
    bool after_date = false;  // the previous item was a date: 'T' or '-' may join a time
    while (true) {
      while (pos_ < text_.size() && IsBlank(text_[pos_])) ++pos_;
      if (pos_ >= text_.size()) break;
      char c = text_[pos_];
      if (after_date && (c == 'T' || c == 't' || c == '-') && pos_ + 1 < text_.size() &&
          IsDigit(text_[pos_ + 1])) {
        ++pos_;
        c = text_[pos_];
      }
      after_date = false;
      if (saw_now_) return Bad("'now' cannot be combined with other items");
      Status s;
      if (IsAlpha(c)) {
        s = ParseWord(&after_date);
      } else if (IsDigit(c)) {
        s = ParseNumeric(&after_date);
      } else {
        return Bad(fmt::format("unexpected '{}'", c));
      }
      if (!s.ok()) return s;
    }
    return Combine();
  }

 private:
  Status Bad(std::string_view why) const {
    return InvalidArgument(
        fmt::format("invalid begin time '{}': {} ({})", text_, why, kBeginForms));
  }

  std::string_view TakeWord() {
    size_t start = pos_;
    while (pos_ < text_.size() && IsAlpha(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  std::string_view TakeDigits() {
    size_t start = pos_;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  Status SetDate(const CivilDate& date, bool has_year) {
    if (date_) return Bad("more than one date");
    if (date.month < 1 || date.month > 12) return Bad(fmt::format("no month {}", date.month));
    // Without a year the day is checked once the year is known.
    int check_year = has_year ? date.year : 2000;  // 2000 is a leap year: allows 02/29
    if (date.day < 1 || date.day > DaysInMonth(check_year, date.month)) {
      return Bad(fmt::format("no day {} in month {}", date.day, date.month));
    }
    date_ = date;
    date_has_year_ = has_year;
    return Status::Ok();
  }

  Status SetClock(const ClockTime& clock) {
    if (clock_) return Bad("more than one time of day");
    clock_ = clock;
    return Status::Ok();
  }

  Status ParseWord(bool* after_date) {
    std::string_view word = TakeWord();
    static constexpr std::pair<std::string_view, int> kNamedHours[] = {
        {"midnight", 0}, {"noon", 12}, {"elevenses", 11}, {"fika", 15}, {"teatime", 16}};
    for (const auto& [name, hour] : kNamedHours) {
      if (EqualsIgnoreCase(word, name)) return SetClock({hour, 0, 0});
    }
    if (EqualsIgnoreCase(word, "today") || EqualsIgnoreCase(word, "tomorrow")) {
      std::optional<CivilDate> date =
          LocalDate(FloorSeconds(now_), EqualsIgnoreCase(word, "today") ? 0 : 1);
      if (!date) return Bad("cannot convert the current time");
      *after_date = true;
      return SetDate(*date, /*has_year=*/true);
    }
    if (EqualsIgnoreCase(word, "now")) {
      if (date_ || clock_) return Bad("'now' cannot be combined with other items");
      saw_now_ = true;
      return ParseDelta();
    }
    return Bad(fmt::format("unknown word '{}'", word));
  }

  // After "now": [blanks] (+|-) [blanks] digits [blanks] [unit].
  Status ParseDelta() {
    while (pos_ < text_.size() && IsBlank(text_[pos_])) ++pos_;
    if (pos_ >= text_.size()) return Status::Ok();
    char sign = text_[pos_];
    if (sign != '+' && sign != '-') return Bad("expected '+' or '-' after 'now'");
    ++pos_;
    while (pos_ < text_.size() && IsBlank(text_[pos_])) ++pos_;
    std::string_view digits = TakeDigits();
    if (digits.empty()) return Bad(fmt::format("expected a number after 'now{}'", sign));
    std::optional<int64_t> count = ParseDigits(digits);
    while (pos_ < text_.size() && IsBlank(text_[pos_])) ++pos_;
    std::string_view unit = TakeWord();
    int64_t multiplier = 0;
    static constexpr std::tuple<std::string_view, std::string_view, int64_t> kUnits[] = {
        {"second", "seconds", 1},
        {"minute", "minutes", 60},
        {"hour", "hours", 3600},
        {"day", "days", 86400},
        {"week", "weeks", 7 * 86400}};
    if (unit.empty()) {
      multiplier = 1;
    } else {
      for (const auto& [singular, plural, secs] : kUnits) {
        if (EqualsIgnoreCase(unit, singular) || EqualsIgnoreCase(unit, plural)) multiplier = secs;
      }
      if (multiplier == 0) return Bad(fmt::format("unknown unit '{}'", unit));
    }
    int64_t offset_ms = 0;
    int64_t result_ms = 0;
    if (!count || __builtin_mul_overflow(*count, multiplier * 1000, &offset_ms)) {
      return Bad("offset too large");
    }
    if (sign == '-') offset_ms = -offset_ms;
    if (__builtin_add_overflow(ToMillis(now_), offset_ms, &result_ms) ||
        result_ms == ToMillis(kNever)) {
      return Bad("offset too large");
    }
    delta_ms_ = offset_ms;
    return Status::Ok();
  }

  // HH:MM[:SS] [AM|PM], YYYY-MM-DD, MM/DD[/YY], MM.DD[.YY] or MMDD[YY].
  Status ParseNumeric(bool* after_date) {
    size_t start = pos_;
    std::string_view first = TakeDigits();
    char next = pos_ < text_.size() ? text_[pos_] : '\0';
    if (next == ':') {
      if (first.size() > 2) return Bad(fmt::format("bad hour '{}'", first));
      return ParseClock(static_cast<int>(*ParseDigits(first)));
    }
    *after_date = true;
    if (first.size() == 4 && next == '-') {
      ++pos_;
      std::string_view month = TakeDigits();
      if (month.empty() || month.size() > 2 || pos_ >= text_.size() || text_[pos_] != '-') {
        return Bad("expected YYYY-MM-DD");
      }
      ++pos_;
      std::string_view day = TakeDigits();
      if (day.empty() || day.size() > 2) return Bad("expected YYYY-MM-DD");
      return SetDate({static_cast<int>(*ParseDigits(first)), static_cast<int>(*ParseDigits(month)),
                      static_cast<int>(*ParseDigits(day))},
                     /*has_year=*/true);
    }
    if (first.size() <= 2 && (next == '/' || next == '.')) {
      ++pos_;
      std::string_view day = TakeDigits();
      if (day.empty() || day.size() > 2) return Bad("expected MM/DD[/YY]");
      std::string_view year;
      if (pos_ + 1 < text_.size() && text_[pos_] == next && IsDigit(text_[pos_ + 1])) {
        ++pos_;
        year = TakeDigits();
        if (year.size() != 2 && year.size() != 4) return Bad("the year must be YY or YYYY");
      }
      return SetShortDate(first, day, year);
    }
    if (first.size() == 4 || first.size() == 6) {
      return SetShortDate(first.substr(0, 2), first.substr(2, 2), first.substr(4));
    }
    return Bad(fmt::format("cannot read '{}'", text_.substr(start)));
  }

  Status SetShortDate(std::string_view month, std::string_view day, std::string_view year) {
    CivilDate date{0, static_cast<int>(*ParseDigits(month)), static_cast<int>(*ParseDigits(day))};
    if (year.empty()) return SetDate(date, /*has_year=*/false);
    date.year = static_cast<int>(*ParseDigits(year));
    if (year.size() == 2) date.year += 2000;
    return SetDate(date, /*has_year=*/true);
  }

  Status ParseClock(int hour) {
    ++pos_;  // ':'
    std::string_view minute = TakeDigits();
    if (minute.size() != 2) return Bad("minutes must have two digits");
    std::string_view second;
    if (pos_ < text_.size() && text_[pos_] == ':') {
      ++pos_;
      second = TakeDigits();
      if (second.size() != 2) return Bad("seconds must have two digits");
    }
    ClockTime clock{hour, static_cast<int>(*ParseDigits(minute)),
                    second.empty() ? 0 : static_cast<int>(*ParseDigits(second))};
    // An optional AM/PM, possibly after blanks.
    size_t save = pos_;
    while (pos_ < text_.size() && IsBlank(text_[pos_])) ++pos_;
    std::string_view word = TakeWord();
    bool am = EqualsIgnoreCase(word, "am");
    bool pm = EqualsIgnoreCase(word, "pm");
    if (am || pm) {
      if (clock.hour > 12) return Bad(fmt::format("hour {} with {}", clock.hour, word));
      if (am && clock.hour == 12) clock.hour = 0;
      if (pm && clock.hour < 12) clock.hour += 12;
    } else {
      pos_ = save;
    }
    if (clock.hour > 23) return Bad(fmt::format("no hour {}", clock.hour));
    if (clock.minute > 59) return Bad(fmt::format("no minute {}", clock.minute));
    if (clock.second > 59) return Bad(fmt::format("no second {}", clock.second));
    return SetClock(clock);
  }

  Result<Time> Combine() {
    if (saw_now_) return FromMillis(ToMillis(now_) + delta_ms_);
    if (!date_ && !clock_) return Bad("no date or time given");
    time_t now_secs = FloorSeconds(now_);
    ClockTime clock = clock_.value_or(ClockTime{});
    CivilDate date;
    if (date_) {
      date = *date_;
      if (!date_has_year_) {
        // This year if that is still ahead, else next year.
        std::optional<CivilDate> today = LocalDate(now_secs, 0);
        if (!today) return Bad("cannot convert the current time");
        date.year = today->year;
        std::optional<time_t> t = MakeLocal(date, clock);
        if (!t || *t <= now_secs) ++date.year;
        if (date.day > DaysInMonth(date.year, date.month)) {
          return Bad(fmt::format("no day {} in month {} of {}", date.day, date.month, date.year));
        }
      }
    } else {
      // A time of day alone: today if still ahead, else tomorrow.
      std::optional<CivilDate> today = LocalDate(now_secs, 0);
      if (!today) return Bad("cannot convert the current time");
      std::optional<time_t> t = MakeLocal(*today, clock);
      if (t && *t > now_secs) return FromMillis(static_cast<int64_t>(*t) * 1000);
      std::optional<CivilDate> tomorrow = LocalDate(now_secs, 1);
      if (!tomorrow) return Bad("cannot convert the current time");
      date = *tomorrow;
    }
    std::optional<time_t> t = MakeLocal(date, clock);
    if (!t) return Bad("out of range");
    return FromMillis(static_cast<int64_t>(*t) * 1000);
  }

  std::string_view text_;
  Time now_;
  size_t pos_ = 0;
  bool saw_now_ = false;
  int64_t delta_ms_ = 0;
  std::optional<CivilDate> date_;
  bool date_has_year_ = false;
  std::optional<ClockTime> clock_;
};

// ---- Array specs ----

constexpr int64_t kMaxArrayExpansion = int64_t{1} << 22;

Status BadArray(std::string_view text, std::string_view why) {
  return InvalidArgument(fmt::format("invalid array spec '{}': {}", text, why));
}

// ---- Patterns ----

constexpr int kMaxPatternWidth = 10;

// ---- Host lists ----

struct HostName {
  std::string prefix;
  bool numbered = false;
  int64_t value = 0;
  std::string digits;  // the numeric suffix as written (keeps zero padding)
};

HostName SplitHostName(const std::string& name) {
  size_t start = name.size();
  while (start > 0 && IsDigit(name[start - 1])) --start;
  size_t ndigits = name.size() - start;
  if (ndigits == 0 || ndigits > 18) return HostName{name, false, 0, ""};
  std::string digits = name.substr(start);
  return HostName{name.substr(0, start), true, *ParseDigits(digits), digits};
}

// `value` written with at least `width` digits (width 0: no padding).
std::string PadNumber(int64_t value, size_t width) { return fmt::format("{:0{}}", value, width); }

bool IsZeroPadded(const std::string& digits) { return digits.size() > 1 && digits[0] == '0'; }

}  // namespace

Result<Duration> ParseTimeLimit(std::string_view text) {
  if (text.empty()) return BadTimeLimit(text, "empty value");
  if (EqualsIgnoreCase(text, "UNLIMITED") || EqualsIgnoreCase(text, "INFINITE") || text == "-1") {
    return kInfinite;
  }
  if (text[0] == '-' || text[0] == '+') return BadTimeLimit(text, "signs are not allowed");

  int64_t days = 0;
  bool has_days = false;
  std::string_view clock = text;
  if (size_t dash = text.find('-'); dash != std::string_view::npos) {
    std::optional<int64_t> d = ParseDigits(text.substr(0, dash));
    if (!d) return BadTimeLimit(text, fmt::format("'{}' is not a day count", text.substr(0, dash)));
    days = *d;
    has_days = true;
    clock = text.substr(dash + 1);
  }
  std::vector<std::string_view> fields = Split(clock, ':');
  if (fields.size() > 3) return BadTimeLimit(text, "too many ':' fields");
  std::vector<int64_t> values;
  for (std::string_view field : fields) {
    if (field.empty()) return BadTimeLimit(text, "empty field");
    std::optional<int64_t> v = ParseDigits(field);
    if (!v) {
      return BadTimeLimit(text, AllDigits(field) ? fmt::format("'{}' is too large", field)
                                                 : fmt::format("'{}' is not a number", field));
    }
    values.push_back(*v);
  }

  // Which field is which depends on the form; only the first field is unbounded.
  int64_t hours = 0, minutes = 0, seconds = 0;
  if (has_days) {
    hours = values[0];
    if (hours > 23) return BadTimeLimit(text, "hours after 'D-' must be 0-23");
    if (values.size() > 1) minutes = values[1];
    if (values.size() > 2) seconds = values[2];
  } else if (values.size() == 1) {
    minutes = values[0];
  } else if (values.size() == 2) {
    minutes = values[0];
    seconds = values[1];
  } else {
    hours = values[0];
    minutes = values[1];
    seconds = values[2];
  }
  bool minutes_bounded = has_days || values.size() == 3;
  if (minutes_bounded && minutes > 59) return BadTimeLimit(text, "minutes must be 0-59");
  if (seconds > 59) return BadTimeLimit(text, "seconds must be 0-59");

  int64_t total = 0;
  int64_t part = 0;
  bool overflow =
      __builtin_mul_overflow(days, 86400, &total) || __builtin_mul_overflow(hours, 3600, &part) ||
      __builtin_add_overflow(total, part, &total) || __builtin_mul_overflow(minutes, 60, &part) ||
      __builtin_add_overflow(total, part, &total) || __builtin_add_overflow(total, seconds, &total);
  // A finite limit must stay below kInfinite once converted to milliseconds.
  if (overflow || total > (kInfinite.count() - 1) / 1000) return BadTimeLimit(text, "too large");
  if (total == 0) return BadTimeLimit(text, "must be greater than zero");
  return Duration(total * 1000);
}

std::string FormatDuration(Duration d) {
  if (d == kInfinite) return "UNLIMITED";
  if (d.count() < 0) return "INVALID";
  int64_t total = d.count() / 1000;
  int64_t days = total / 86400;
  int64_t hours = total / 3600 % 24;
  int64_t minutes = total / 60 % 60;
  int64_t seconds = total % 60;
  if (days > 0) return fmt::format("{}-{:02}:{:02}:{:02}", days, hours, minutes, seconds);
  return fmt::format("{:02}:{:02}:{:02}", hours, minutes, seconds);
}

Result<Time> ParseBeginTime(std::string_view text, Time now) {
  return BeginTimeParser(text, now).Parse();
}

std::string FormatTime(Time t) {
  if (t == kNever) return "Unknown";
  time_t secs = FloorSeconds(t);
  std::tm tm{};
  if (localtime_r(&secs, &tm) == nullptr) return "Unknown";
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

Result<ArraySpec> ParseArraySpec(std::string_view text, int64_t max_index) {
  if (text.empty()) return BadArray(text, "empty value");
  ArraySpec spec;
  std::string_view list = text;
  if (size_t percent = text.find('%'); percent != std::string_view::npos) {
    std::string_view throttle = text.substr(percent + 1);
    if (throttle.find('%') != std::string_view::npos) return BadArray(text, "more than one '%'");
    std::optional<int64_t> n = ParseDigits(throttle);
    if (!n || *n > std::numeric_limits<int>::max()) {
      return BadArray(text, fmt::format("throttle '{}' is not a positive integer", throttle));
    }
    if (*n == 0) return BadArray(text, "the throttle after '%' must be at least 1");
    spec.max_running = static_cast<int>(*n);
    list = text.substr(0, percent);
  }
  if (list.empty()) return BadArray(text, "no indices");

  auto index = [&](std::string_view s) -> Result<int64_t> {
    if (!s.empty() && s[0] == '-') return BadArray(text, "negative indices are not allowed");
    std::optional<int64_t> v = ParseDigits(s);
    if (!v) return BadArray(text, fmt::format("'{}' is not a non-negative integer", s));
    if (*v > max_index) {
      return BadArray(text, fmt::format("index {} exceeds the maximum {}", *v, max_index));
    }
    return *v;
  };

  struct IndexRange {
    int64_t first, last, step;
  };
  std::vector<IndexRange> ranges;
  int64_t expanded = 0;
  for (std::string_view item : Split(list, ',')) {
    if (item.empty()) return BadArray(text, "empty item in the list");
    if (item[0] == '-') return BadArray(text, "negative indices are not allowed");
    std::string_view range = item;
    int64_t step = 1;
    if (size_t colon = item.find(':'); colon != std::string_view::npos) {
      std::string_view step_text = item.substr(colon + 1);
      range = item.substr(0, colon);
      if (!step_text.empty() && step_text[0] == '-') {
        return BadArray(text, "the step after ':' must be at least 1");
      }
      std::optional<int64_t> s = ParseDigits(step_text);
      if (!s) return BadArray(text, fmt::format("step '{}' is not an integer", step_text));
      if (*s == 0) return BadArray(text, "the step after ':' must be at least 1");
      if (range.find('-') == std::string_view::npos) {
        return BadArray(text, fmt::format("a step needs a range, as in 'A-B:{}'", step_text));
      }
      step = *s;
    }
    int64_t first = 0, last = 0;
    if (size_t dash = range.find('-'); dash != std::string_view::npos) {
      SWELL_ASSIGN_OR_RETURN(first, index(range.substr(0, dash)));
      SWELL_ASSIGN_OR_RETURN(last, index(range.substr(dash + 1)));
      if (last < first) {
        return BadArray(text, fmt::format("range '{}' ends before it starts", range));
      }
    } else {
      SWELL_ASSIGN_OR_RETURN(first, index(range));
      last = first;
    }
    expanded += (last - first) / step + 1;
    if (expanded > kMaxArrayExpansion) {
      return BadArray(text, fmt::format("expands to more than {} indices", kMaxArrayExpansion));
    }
    ranges.push_back({first, last, step});
  }
  // Expanded only once the whole spec is known to be valid and small enough.
  spec.indices.reserve(static_cast<size_t>(expanded));
  for (const IndexRange& r : ranges) {
    for (int64_t i = r.first;; i += r.step) {
      spec.indices.push_back(i);
      if (r.last - i < r.step) break;  // the next step would pass `last` (and might overflow)
    }
  }
  std::sort(spec.indices.begin(), spec.indices.end());
  spec.indices.erase(std::unique(spec.indices.begin(), spec.indices.end()), spec.indices.end());
  return spec;
}

std::string FormatArrayIndices(const std::vector<int64_t>& indices) {
  std::vector<int64_t> sorted = indices;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string out;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? fmt::format("{}", sorted[i]) : fmt::format("{}-{}", sorted[i], sorted[j]);
    i = j + 1;
  }
  return out;
}

std::string ExpandPattern(std::string_view pattern, const PatternFields& fields) {
  std::string out;
  if (pattern.find('\\') != std::string_view::npos) {
    for (char c : pattern) {
      if (c != '\\') out += c;
    }
    return out;
  }
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] != '%') {
      out += pattern[i++];
      continue;
    }
    if (i + 1 < pattern.size() && pattern[i + 1] == '%') {
      out += '%';
      i += 2;
      continue;
    }
    size_t j = i + 1;
    int width = 0;
    while (j < pattern.size() && IsDigit(pattern[j])) {
      width = std::min(width * 10 + (pattern[j] - '0'), kMaxPatternWidth);
      ++j;
    }
    std::optional<int64_t> number;
    const std::string* text = nullptr;
    char spec = j < pattern.size() ? pattern[j] : '\0';
    switch (spec) {
      case 'j':
      case 'J':
        number = fields.job_id;
        break;
      case 'A':
        number = fields.array_task_id ? fields.array_job_id : fields.job_id;
        break;
      case 'a':
        number = fields.array_task_id.value_or(kNoArrayTaskId);
        break;
      case 'x':
        text = &fields.job_name;
        break;
      case 'N':
        text = &fields.node;
        break;
      case 'u':
        text = &fields.user;
        break;
      default:
        // Unknown specifier or a trailing '%': keep "%<width>" and go on with the next char.
        out.append(pattern.substr(i, j - i));
        i = j;
        continue;
    }
    out += number ? PadNumber(*number, static_cast<size_t>(width)) : *text;
    i = j + 1;
  }
  return out;
}

Result<int64_t> ParseMemoryMb(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format(
        "invalid memory size '{}': {} (expected a non-negative integer with an optional unit "
        "K, M, G or T; the default is M)",
        text, why));
  };
  if (text.empty()) return bad("empty value");
  size_t end = 0;
  while (end < text.size() && IsDigit(text[end])) ++end;
  if (end == 0) {
    return bad(text[0] == '-' ? "negative sizes are not allowed" : "no number");
  }
  std::optional<int64_t> n = ParseDigits(text.substr(0, end));
  if (!n) return bad("too large");
  std::string_view unit = text.substr(end);
  if (unit.size() == 2 && Lower(unit[1]) == 'b') unit.remove_suffix(1);
  int64_t mb = 0;
  if (unit.empty() || EqualsIgnoreCase(unit, "M")) {
    mb = *n;
  } else if (EqualsIgnoreCase(unit, "K")) {
    mb = *n / 1024 + (*n % 1024 != 0 ? 1 : 0);
  } else if (EqualsIgnoreCase(unit, "G")) {
    if (__builtin_mul_overflow(*n, int64_t{1024}, &mb)) return bad("too large");
  } else if (EqualsIgnoreCase(unit, "T")) {
    if (__builtin_mul_overflow(*n, int64_t{1024} * 1024, &mb)) return bad("too large");
  } else {
    return bad(fmt::format("unknown unit '{}'", text.substr(end)));
  }
  return mb;
}

std::string CompressHostList(std::vector<std::string> names) {
  std::vector<HostName> hosts;
  hosts.reserve(names.size());
  for (const std::string& name : names) {
    if (!name.empty()) hosts.push_back(SplitHostName(name));
  }
  auto key = [](const HostName& h) { return std::tie(h.prefix, h.numbered, h.value, h.digits); };
  std::sort(hosts.begin(), hosts.end(),
            [&](const HostName& a, const HostName& b) { return key(a) < key(b); });
  hosts.erase(std::unique(hosts.begin(), hosts.end(),
                          [&](const HostName& a, const HostName& b) { return key(a) == key(b); }),
              hosts.end());

  std::string out;
  for (size_t i = 0; i < hosts.size();) {
    if (!out.empty()) out += ',';
    if (!hosts[i].numbered) {
      out += hosts[i++].prefix;
      continue;
    }
    size_t group_end = i;
    while (group_end < hosts.size() && hosts[group_end].numbered &&
           hosts[group_end].prefix == hosts[i].prefix) {
      ++group_end;
    }
    if (group_end - i == 1) {
      out += hosts[i].prefix + hosts[i].digits;
      i = group_end;
      continue;
    }
    std::string ranges;
    while (i < group_end) {
      // A range keeps the padding of its first element: later members must print the same way.
      size_t width = IsZeroPadded(hosts[i].digits) ? hosts[i].digits.size() : 0;
      size_t j = i;
      while (j + 1 < group_end && hosts[j + 1].value == hosts[j].value + 1 &&
             hosts[j + 1].digits == PadNumber(hosts[j + 1].value, width)) {
        ++j;
      }
      if (!ranges.empty()) ranges += ',';
      ranges += hosts[i].digits;
      if (j > i) ranges += "-" + hosts[j].digits;
      i = j + 1;
    }
    out += hosts[group_end - 1].prefix + "[" + ranges + "]";
  }
  return out;
}

Result<std::vector<std::string>> ExpandHostList(std::string_view text) {
  constexpr size_t kMaxHosts = 1'000'000;
  auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format("invalid host list '{}': {}", text, why));
  };
  // Top-level items: commas inside brackets belong to the ranges.
  std::vector<std::string_view> items;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    char c = i < text.size() ? text[i] : ',';
    if (c == '[' && ++depth > 1) return bad("nested brackets");
    if (c == ']' && --depth < 0) return bad("unbalanced ']'");
    if (c == ',' && depth == 0) {
      if (i > start) items.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  if (depth != 0) return bad("unbalanced '['");
  std::vector<std::string> out;
  for (std::string_view item : items) {
    std::vector<std::string> names = {""};
    size_t i = 0;
    while (i < item.size()) {
      size_t open = item.find('[', i);
      std::string_view literal =
          item.substr(i, open == std::string_view::npos ? item.npos : open - i);
      for (auto& n : names) n += literal;
      if (open == std::string_view::npos) break;
      size_t close = item.find(']', open);
      std::string_view inner = item.substr(open + 1, close - open - 1);
      std::vector<std::string> numbers;
      for (std::string_view range : Split(inner, ',')) {
        size_t dash = range.find('-');
        std::string_view lo_text = range.substr(0, dash);
        std::string_view hi_text =
            dash == std::string_view::npos ? lo_text : range.substr(dash + 1);
        auto lo = ParseDigits(lo_text), hi = ParseDigits(hi_text);
        if (lo_text.empty() || hi_text.empty() || !lo || !hi || *hi < *lo)
          return bad(fmt::format("bad range '{}'", range));
        if (static_cast<uint64_t>(*hi - *lo) >= kMaxHosts) return bad("too many hosts");
        size_t width = IsZeroPadded(std::string(lo_text)) ? lo_text.size() : 0;
        for (int64_t v = *lo; v <= *hi; ++v) numbers.push_back(PadNumber(v, width));
      }
      if (names.size() * numbers.size() > kMaxHosts) return bad("too many hosts");
      std::vector<std::string> next;
      next.reserve(names.size() * numbers.size());
      for (const auto& n : names)
        for (const auto& num : numbers) next.push_back(n + num);
      names = std::move(next);
      i = close + 1;
    }
    if (out.size() + names.size() > kMaxHosts) return bad("too many hosts");
    for (auto& n : names) out.push_back(std::move(n));
  }
  return out;
}

std::string CompressCounts(const std::vector<int>& counts) {
  std::string out;
  for (size_t i = 0; i < counts.size();) {
    size_t j = i;
    while (j < counts.size() && counts[j] == counts[i]) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(counts[i]);
    if (j - i > 1) out += "(x" + std::to_string(j - i) + ")";
    i = j;
  }
  return out;
}

std::vector<std::string> HostListOrder(const std::vector<std::string>& names) {
  auto order = ExpandHostList(CompressHostList(names));
  return order.ok() ? std::move(order).value() : names;
}

}  // namespace swell
