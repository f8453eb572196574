#include "common/local_time.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>
#include <utility>

namespace swell {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// Pins the process time zone to UTC so local-time results are deterministic.
class BeginTimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    had_tz_ = tz != nullptr;
    if (had_tz_) saved_tz_ = tz;
    setenv("TZ", "UTC", 1);
    tzset();
  }
  void TearDown() override {
    if (had_tz_) {
      setenv("TZ", saved_tz_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

  static Time Utc(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    return FromMillis(static_cast<int64_t>(timegm(&tm)) * 1000);
  }

  Time Begin(std::string_view text) {
    Result<Time> r = ParseBeginTime(text, now_);
    EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
    return r.ok() ? *r : Time();
  }

  // Friday 2024-03-15 10:30:00.250 UTC.
  const Time now_ = Utc(2024, 3, 15, 10, 30, 0) + Duration(250);

 private:
  bool had_tz_ = false;
  std::string saved_tz_;
};

TEST_F(BeginTimeTest, NowAndOffsets) {
  EXPECT_EQ(Begin("now"), now_);
  EXPECT_EQ(Begin("NOW"), now_);
  EXPECT_EQ(Begin("now+60"), now_ + seconds(60));  // seconds by default
  EXPECT_EQ(Begin("now+1hour"), now_ + hours(1));
  EXPECT_EQ(Begin("now+2hours"), now_ + hours(2));
  EXPECT_EQ(Begin("now + 3 minutes"), now_ + minutes(3));
  EXPECT_EQ(Begin("now+10second"), now_ + seconds(10));
  EXPECT_EQ(Begin("now+1day"), now_ + hours(24));
  EXPECT_EQ(Begin("now+2weeks"), now_ + hours(24 * 14));
  EXPECT_EQ(Begin("now+1Week"), now_ + hours(24 * 7));
  EXPECT_EQ(Begin("now-30minutes"), now_ - minutes(30));
}

// Times of day are today's when still ahead, else tomorrow's; named times are times of day.
TEST_F(BeginTimeTest, TimesOfDay) {
  const std::pair<const char*, Time> cases[] = {
      {"16:00", Utc(2024, 3, 15, 16, 0)},    {"10:30:01", Utc(2024, 3, 15, 10, 30, 1)},
      {"10:30", Utc(2024, 3, 16, 10, 30)},  // already past (by 250 ms)
      {"09:00", Utc(2024, 3, 16, 9, 0)},     {"4:00pm", Utc(2024, 3, 15, 16, 0)},
      {"4:00 PM", Utc(2024, 3, 15, 16, 0)},  {"12:00am", Utc(2024, 3, 16, 0, 0)},
      {"12:15pm", Utc(2024, 3, 15, 12, 15)}, {"midnight", Utc(2024, 3, 16, 0, 0)},
      {"noon", Utc(2024, 3, 15, 12, 0)},     {"elevenses", Utc(2024, 3, 15, 11, 0)},
      {"fika", Utc(2024, 3, 15, 15, 0)},     {"teatime", Utc(2024, 3, 15, 16, 0)},
      {"TeaTime", Utc(2024, 3, 15, 16, 0)},
  };
  for (const auto& [text, want] : cases) EXPECT_EQ(Begin(text), want) << text;
}

TEST_F(BeginTimeTest, TodayAndTomorrow) {
  EXPECT_EQ(Begin("tomorrow"), Utc(2024, 3, 16));
  EXPECT_EQ(Begin("today"), Utc(2024, 3, 15));  // in the past: eligible at once
  EXPECT_EQ(Begin("tomorrow noon"), Utc(2024, 3, 16, 12, 0));
  EXPECT_EQ(Begin("noon tomorrow"), Utc(2024, 3, 16, 12, 0));
  EXPECT_EQ(Begin("today 09:00"), Utc(2024, 3, 15, 9, 0));  // explicit day: no roll-over
  EXPECT_EQ(Begin("tomorrow-08:15"), Utc(2024, 3, 16, 8, 15));
  EXPECT_EQ(Begin("teatime today"), Utc(2024, 3, 15, 16, 0));
}

TEST_F(BeginTimeTest, Dates) {
  EXPECT_EQ(Begin("2024-04-01"), Utc(2024, 4, 1));
  EXPECT_EQ(Begin("2024-4-1"), Utc(2024, 4, 1));
  EXPECT_EQ(Begin("2010-01-20T12:34:00"), Utc(2010, 1, 20, 12, 34));
  EXPECT_EQ(Begin("2024-12-31T23:59"), Utc(2024, 12, 31, 23, 59));
  EXPECT_EQ(Begin("2024-02-29"), Utc(2024, 2, 29));
  EXPECT_EQ(Begin("04/01"), Utc(2024, 4, 1));
  EXPECT_EQ(Begin("03/01"), Utc(2025, 3, 1));   // already past this year
  EXPECT_EQ(Begin("03/15"), Utc(2025, 3, 15));  // today at 00:00 is past
  EXPECT_EQ(Begin("03/15-16:00"), Utc(2024, 3, 15, 16, 0));
  EXPECT_EQ(Begin("04/01/25"), Utc(2025, 4, 1));
  EXPECT_EQ(Begin("04/01/2026"), Utc(2026, 4, 1));
  EXPECT_EQ(Begin("04.01.25"), Utc(2025, 4, 1));
  EXPECT_EQ(Begin("0401"), Utc(2024, 4, 1));
  EXPECT_EQ(Begin("040125"), Utc(2025, 4, 1));
  EXPECT_EQ(Begin("12/25 noon"), Utc(2024, 12, 25, 12, 0));
  EXPECT_EQ(Begin("uts1700000000"), FromMillis(1'700'000'000'000));
}

TEST_F(BeginTimeTest, FollowsTheTimeZone) {
  setenv("TZ", "EST5", 1);  // fixed UTC-5, no DST
  tzset();
  EXPECT_EQ(Begin("2024-04-01T10:00"), Utc(2024, 4, 1, 15, 0));
  EXPECT_EQ(FormatTime(Utc(2024, 4, 1, 15, 0)), "2024-04-01T10:00:00");
}

TEST_F(BeginTimeTest, RejectsBadInput) {
  // clang-format off
  constexpr const char* kRejected[] = {
      "", "   ", "soon", "now+", "now+abc", "now+1fortnight", "now+1h", "now 5", "now noon",
      "noon now", "25:00", "12:60", "12:00:60", "1:5", "123:00", "13:00pm", "2024-13-01",
      "2024-02-30", "2023-02-29", "2024-04-31", "13/01", "02/30", "4/1/123", "20240401",
      "noon midnight", "today tomorrow", "2024-01-01 2024-01-02", "12:00 xyz", "T12:00", "uts",
      "utsabc", "nowhere", "now+99999999999999999weeks", "#"};
  // clang-format on
  for (const char* text : kRejected) {
    Result<Time> r = ParseBeginTime(text, now_);
    EXPECT_FALSE(r.ok()) << "'" << text << "' was accepted as " << FormatTime(*r);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
      EXPECT_NE(r.status().message().find("'" + std::string(text) + "'"), std::string::npos)
          << r.status().message();
    }
  }
}

TEST_F(BeginTimeTest, FormatTime) {
  EXPECT_EQ(FormatTime(Utc(2024, 3, 5, 7, 8, 9) + Duration(999)), "2024-03-05T07:08:09");
  EXPECT_EQ(FormatTime(kNever), "Unknown");
  Time t = Utc(2031, 7, 4, 23, 1, 2);
  EXPECT_EQ(Begin(FormatTime(t)), t);  // round trip through --begin
}

}  // namespace
}  // namespace swell
