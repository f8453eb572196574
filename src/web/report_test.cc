#include "web/report.h"

#include <gtest/gtest.h>

namespace swell::web {
namespace {

PolicyRun PolicyOf(const std::string& policy, int samples) {
  PolicyRun r;
  r.metrics.policy = policy;
  r.metrics.jobs = 12;
  r.metrics.cost = 1.5;
  r.metrics.nodes_max = 3;
  for (int i = 0; i < samples; ++i) r.series.push_back({i * 36.0, samples - i, 1, 2, i % 2});
  return r;
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(SimReportTest, EveryPolicyHasItsChartsAndItsRowOnOnePage) {
  const std::string page =
      SimReport("swell sim: clic", {PolicyOf("clic", 5), PolicyOf("lookahead", 5)});
  EXPECT_EQ(page.rfind("<!doctype html>", 0), 0u);
  EXPECT_NE(page.find("<h1>swell sim: clic</h1>"), std::string::npos);
  for (const char* id : {"id=jobs-0", "id=nodes-0", "id=jobs-1", "id=nodes-1"})
    EXPECT_NE(page.find(id), std::string::npos) << id;
  EXPECT_NE(page.find("<tr><td>clic</td><td class=num>12</td>"), std::string::npos);
  EXPECT_NE(page.find("<tr><td>lookahead</td>"), std::string::npos);
  EXPECT_NE(page.find("Chart.js v3"), std::string::npos) << "Chart.js is inlined";
  EXPECT_EQ(Count(page, "\"policy\":"), 2u);
  EXPECT_NE(page.find("\"queued\":[5,4,3,2,1]"), std::string::npos);
}

TEST(SimReportTest, LongRunsAreThinnedAndKeepTheirEnd) {
  const std::string page = SimReport("t", {PolicyOf("clic", 10000)}, 100);
  const size_t at = page.find("\"hours\":[");
  ASSERT_NE(at, std::string::npos);
  const std::string hours = page.substr(at, page.find(']', at) - at);
  EXPECT_LE(Count(hours, ","), 100u);
  EXPECT_NE(hours.find("99.99"), std::string::npos) << "the last sample, 9999 x 36 s";
}

TEST(SimReportTest, NamesCannotEndTheScript) {
  const std::string page = SimReport("<b>", {PolicyOf("</script><script>alert(1)", 2)});
  EXPECT_EQ(page.find("</script><script>alert"), std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;"), std::string::npos);
}

}  // namespace
}  // namespace swell::web
