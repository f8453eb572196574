#include "web/metrics.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "web/series.h"

namespace swell::web {
namespace {

head::Overview Busy() {
  head::Overview o;
  o.now_ms = 1'700'000'000'000;
  o.started_ms = 1'699'999'000'000;
  o.cluster = "elastic";
  o.jobs["PENDING"]["small"] = 7;
  o.jobs["RUNNING"]["small"] = 2;
  o.jobs["RUNNING"][""] = 1;
  o.pending_reasons["Resources"] = 6;
  o.pending_reasons["Dependency"] = 1;
  o.nodes["small"]["ALLOCATED"] = 2;
  o.nodes["small"]["BOOTING"] = 1;
  o.nodes[""]["IDLE"] = 1;
  o.cpus = 12;
  o.cpus_used = 8;
  o.jobs_submitted = 10;
  o.jobs_finished["COMPLETED"] = 3;
  o.jobs_finished["FAILED"] = 1;
  o.node_hours_used = 0.5;
  o.node_hours_paid = 1.25;
  o.cost = 0.125;
  o.cost_per_hour = 0.3;
  for (double w : {0.5, 3.0, 120.0}) o.queue_wait.Observe(w);
  o.pass_seconds.Observe(0.0004);
  o.pass_seconds.Observe(20);
  o.schedule_seconds.Observe(0.03);
  return o;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(MetricsTest, TheQueueAndTheNodesAsPrometheusSeries) {
  const std::string t = PrometheusText(Busy());
  EXPECT_TRUE(Has(t, "# TYPE swell_jobs gauge")) << t;
  EXPECT_TRUE(Has(t, R"(swell_jobs{state="PENDING",partition="small"} 7)")) << t;
  EXPECT_TRUE(Has(t, R"(swell_jobs{state="RUNNING",partition=""} 1)")) << t;
  EXPECT_TRUE(Has(t, R"(swell_pending_jobs{reason="Dependency"} 1)")) << t;
  EXPECT_TRUE(Has(t, R"(swell_nodes{type="small",state="BOOTING"} 1)")) << t;
  EXPECT_TRUE(Has(t, R"(swell_nodes{type="",state="IDLE"} 1)")) << t;
  EXPECT_TRUE(Has(t, "swell_jobs_submitted_total 10")) << t;
  EXPECT_TRUE(Has(t, R"(swell_jobs_finished_total{state="FAILED"} 1)")) << t;
  EXPECT_TRUE(Has(t, "swell_node_paid_seconds_total 4500")) << t;
  EXPECT_TRUE(Has(t, "swell_cost_total 0.125")) << t;
  // Histograms: cumulative buckets, +Inf equal to the count.
  EXPECT_TRUE(Has(t, R"(swell_queue_wait_seconds_bucket{le="1"} 1)")) << t;
  EXPECT_TRUE(Has(t, R"(swell_queue_wait_seconds_bucket{le="5"} 2)")) << t;
  EXPECT_TRUE(Has(t, R"(swell_queue_wait_seconds_bucket{le="300"} 3)")) << t;
  EXPECT_TRUE(Has(t, R"(swell_queue_wait_seconds_bucket{le="+Inf"} 3)")) << t;
  EXPECT_TRUE(Has(t, "swell_queue_wait_seconds_count 3")) << t;
  EXPECT_TRUE(Has(t, R"(swell_loop_pass_duration_seconds_bucket{le="10"} 1)")) << t;
  EXPECT_TRUE(Has(t, R"(swell_loop_pass_duration_seconds_bucket{le="+Inf"} 2)")) << t;
  EXPECT_TRUE(Has(t, R"(swell_schedule_duration_seconds_bucket{le="0.025"} 0)")) << t;
  EXPECT_TRUE(Has(t, R"(swell_schedule_duration_seconds_bucket{le="0.05"} 1)")) << t;
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  head::Overview o;
  o.pending_reasons["a \"quoted\"\\reason\nnext"] = 1;
  EXPECT_TRUE(Has(PrometheusText(o), R"(swell_pending_jobs{reason="a \"quoted\"\\reason\nnext"} 1)"));
}

// Debian's promtool (prometheus package, scripts/setup) accepts the text: format and naming.
TEST(MetricsTest, PromtoolChecksTheText) {
  if (system("command -v promtool >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "promtool not installed (Debian's prometheus package; scripts/setup installs it)";
  const std::string path = ::testing::TempDir() + "swell_metrics.txt";
  for (const head::Overview& o : {Busy(), head::Overview()}) {
    std::ofstream(path) << PrometheusText(o);
    const std::string cmd = "promtool check metrics < " + path + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out += buf;
    const int rc = pclose(p);
    EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << out;
  }
}

TEST(SeriesTest, KeepsTheLastSamplesOldestFirst) {
  Series s(2);
  for (int i = 0; i < 3; ++i) {
    head::Overview o = Busy();
    o.now_ms = 1000 * (i + 1);
    o.jobs["PENDING"]["small"] = i;
    s.Add(SampleOf(o));
  }
  EXPECT_EQ(s.size(), 2u);
  const std::string j = s.Json();
  EXPECT_NE(j.find(R"("t":[2000,3000])"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("pending":[1,2])"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("running":[3,3])"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("nodes_up":{"":[1,1],"small":[2,2]})"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("nodes_booting":{"":[0,0],"small":[1,1]})"), std::string::npos) << j;
}

}  // namespace
}  // namespace swell::web
