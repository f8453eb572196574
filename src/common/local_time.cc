#include "common/local_time.h"

#include <fmt/format.h>

#include <ctime>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>

#include "common/text.h"

namespace swell {
namespace {

// Seconds since the epoch of `t`, rounded towards the past.
time_t FloorSeconds(Time t) {
  int64_t ms = ToMillis(t);
  int64_t s = ms / 1000;
  if (ms % 1000 < 0) --s;
  return static_cast<time_t>(s);
}

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

}  // namespace

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

}  // namespace swell
