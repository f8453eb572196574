// The head's dashboard as people and Prometheus meet it (docs/dashboard.md): the page in a
// headless Chromium, /metrics through promtool, and the rules for addresses off loopback.

#include <httplib.h>

#include "cli_harness.h"

#ifndef SWELL_ARTIFACTS_DIR
#error "SWELL_ARTIFACTS_DIR must name where the tests keep screenshots"
#endif

namespace swell::testing_cli {
namespace {

bool Installed(const std::string& tool) {
  return Exec({"sh", "-c", "command -v " + tool}).code == 0;
}

// The page at `url` as a headless Chromium renders it: its DOM after the scripts ran, and a
// screenshot kept in SWELL_ARTIFACTS_DIR/dashboard/`shot`.
std::string Render(const std::string& url, const std::string& profile, const std::string& shot) {
  const std::vector<std::string> common = {
      "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
      "--hide-scrollbars", "--user-data-dir=" + profile, "--window-size=1400,1500",
      "--virtual-time-budget=5000"};
  std::filesystem::create_directories(std::string(SWELL_ARTIFACTS_DIR) + "/dashboard");
  auto args = common;
  args.push_back("--screenshot=" + std::string(SWELL_ARTIFACTS_DIR) + "/dashboard/" + shot);
  args.push_back(url);
  EXPECT_EQ(Exec(args).code, 0);
  args = common;
  args.push_back("--dump-dom");
  args.push_back(url);
  return Exec(args).out;
}

// The number in `attr="N"` on the element with id `id` (-1 when absent).
int64_t Attribute(const std::string& dom, const std::string& id, const std::string& attr) {
  size_t at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos) return -1;
  size_t end = dom.find('>', at);
  size_t a = dom.find(attr + "=\"", at);
  if (a == std::string::npos || a > end) return -1;
  return std::atoll(dom.c_str() + a + attr.size() + 2);
}

TEST_F(CliTest, TheDashboardShowsTheClusterToABrowserAndToPrometheus) {
  std::ofstream(dir_ + "/cluster.toml") << "[cluster]\nnodes = 2\ncpus_per_node = 2\n"
                                           "http = \"127.0.0.1:0\"\n";
  auto up = Swell({"up", "--config", dir_ + "/cluster.toml"});
  ASSERT_EQ(up.code, 0) << up.err;
  const std::string url = Read(home_ + "/head.http").substr(0, Read(home_ + "/head.http").find('\n'));
  ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
  EXPECT_NE(up.out.find("swell: dashboard at " + url), std::string::npos) << up.out;

  auto sub = Slurm("sbatch", {"-J", "dash-probe", "--wrap", "sleep 300"});
  ASSERT_EQ(sub.code, 0) << sub.err;
  const std::string id = sub.out.substr(sub.out.rfind(' ') + 1, sub.out.find('\n') - sub.out.rfind(' ') - 1);
  bool running = false;
  for (int i = 0; i < 300 && !running; ++i) {
    running = Slurm("squeue", {"-h", "-o", "%T", "-j", id}).out.find("RUNNING") != std::string::npos;
    if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(running);

  httplib::Client http(url.substr(0, url.size() - 1));
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("swell_jobs{state=\"RUNNING\",partition=\"\"} 1\n"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("swell_nodes{type=\"\",state=\"MIXED\"} 1\n"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("swell_nodes{type=\"\",state=\"IDLE\"} 1\n"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("swell_tasks_started_total 1\n"), std::string::npos);
  if (Installed("promtool")) {
    std::ofstream(dir_ + "/metrics.txt") << metrics->body;
    auto check = Exec({"sh", "-c", "promtool check metrics < " + dir_ + "/metrics.txt"});
    EXPECT_EQ(check.code, 0) << check.out << check.err;
  } else {
    ADD_FAILURE() << "promtool is missing: scripts/setup installs Debian's prometheus package";
  }
  auto overview = http.Get("/api/overview");
  ASSERT_TRUE(overview);
  auto o = nlohmann::json::parse(overview->body);
  ASSERT_EQ(o["running"].size(), 1u) << overview->body;
  EXPECT_EQ(o["running"][0]["name"], "dash-probe");
  auto missing = http.Get("/api/job/999999");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  // A page of the active jobs, by state and after an id.
  auto page = http.Get("/api/jobs?state=RUNNING&limit=1");
  ASSERT_TRUE(page);
  auto jobs = nlohmann::json::parse(page->body)["jobs"];
  ASSERT_EQ(jobs.size(), 1u) << page->body;
  EXPECT_EQ(jobs[0]["name"], "dash-probe");
  EXPECT_EQ(nlohmann::json::parse(http.Get("/api/jobs?state=PENDING")->body)["jobs"].size(), 0u);
  EXPECT_EQ(nlohmann::json::parse(http.Get("/api/jobs?after=" + id)->body)["jobs"].size(), 0u);
  auto bad = http.Get("/api/jobs?limit=x");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  // The same overview in the terminal.
  auto top = Swell({"top", "--once"});
  ASSERT_EQ(top.code, 0) << top.err;
  EXPECT_NE(top.out.find("0 pending, 1 running"), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("2 up, 0 booting"), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("dash-probe"), std::string::npos) << top.out;
  EXPECT_EQ(Swell({"top", "--interval", "0"}).code, 2);

  if (!Installed("chromium")) GTEST_SKIP() << "chromium is missing: scripts/setup installs it";
  // The charts sample every 5 s: let them take a few.
  std::this_thread::sleep_for(std::chrono::seconds(6));
  const std::string dom = Render(url, dir_ + "/chromium", "cluster.png");
  for (const char* seen : {"node1", "node2", "dash-probe", "MIXED"})
    EXPECT_NE(dom.find(seen), std::string::npos) << seen << " is not on the page:\n" << dom;
  EXPECT_GT(Attribute(dom, "chart-jobs", "data-points"), 1) << dom;
  EXPECT_GT(Attribute(dom, "chart-nodes", "data-points"), 1) << dom;
  EXPECT_EQ(dom.find("cannot reach the head"), std::string::npos) << dom;

  const std::string job = Render(url + "#/job/" + id, dir_ + "/chromium", "job.png");
  EXPECT_NE(job.find("dash-probe"), std::string::npos) << job;
  EXPECT_NE(job.find("RUNNING"), std::string::npos) << job;
  EXPECT_NE(job.find("sleep 300"), std::string::npos) << job;
  const std::string node = Render(url + "#/node/node1", dir_ + "/chromium", "node.png");
  EXPECT_NE(node.find("dash-probe"), std::string::npos) << node;
}

// Off loopback the dashboard speaks TLS (the head's certificate) and answers only with its
// token; a cluster without TLS refuses such an address before it starts.
TEST_F(CliTest, ADashboardOffLoopbackNeedsTlsAndAToken) {
  std::ofstream(dir_ + "/cluster.toml") << "[cluster]\nnodes = 1\nhttp = \"0.0.0.0:0\"\n";
  auto refused = Swell({"up", "--config", dir_ + "/cluster.toml"});
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.err.find("not a loopback address"), std::string::npos) << refused.err;

  std::ofstream(dir_ + "/cluster.toml") << "[cluster]\nnodes = 1\ntcp = \"127.0.0.1:0\"\n"
                                           "http = \"0.0.0.0:0\"\n";
  auto up = Swell({"up", "--config", dir_ + "/cluster.toml"});
  ASSERT_EQ(up.code, 0) << up.err;
  std::string url = Read(home_ + "/head.http");
  ASSERT_EQ(url.rfind("https://0.0.0.0:", 0), 0u) << url;
  const std::string port = url.substr(16, url.find('/', 16) - 16);
  const std::string token = Read(home_ + "/http.token").substr(0, Read(home_ + "/http.token").find('\n'));
  ASSERT_FALSE(token.empty());
  struct stat st {};
  ASSERT_EQ(stat((home_ + "/http.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  httplib::SSLClient tls("127.0.0.1", std::atoi(port.c_str()));
  tls.enable_server_certificate_verification(false);  // the cluster's own CA signed it
  auto anonymous = tls.Get("/metrics");
  ASSERT_TRUE(anonymous) << "no TLS answer";
  EXPECT_EQ(anonymous->status, 401);
  auto wrong = tls.Get("/metrics", {{"Authorization", "Bearer nope"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto ok = tls.Get("/metrics", {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_NE(ok->body.find("swell_nodes{"), std::string::npos);
  auto cookie = tls.Get("/?token=" + token);
  ASSERT_TRUE(cookie);
  EXPECT_EQ(cookie->status, 200);
  EXPECT_NE(cookie->get_header_value("Set-Cookie").find("swell_token="), std::string::npos);

  httplib::Client plain("127.0.0.1", std::atoi(port.c_str()));
  auto clear = plain.Get("/metrics");
  EXPECT_TRUE(!clear || clear->status != 200) << "a plaintext client got an answer";
}

// On an elastic cluster the page shows the nodes a job made the pool create while they boot,
// by type, and what they cost: the live form of CLIC's figures.
TEST_F(CliTest, TheDashboardShowsAnElasticClusterGrowingAndItsCost) {
  std::ofstream(dir_ + "/cluster.toml")
      << "[cluster]\nnodes = 0\nhttp = \"127.0.0.1:0\"\n"
         "[provider]\nkind = \"local\"\nboot_seconds = 30\n"
         "[autoscaler]\npolicy = \"clic\"\nmin_lifetime_s = 5\ninterval_s = 0.5\n"
         "[[node_type]]\nname = \"small\"\ncpus = 1\nmemory_mb = 1024\nprice_per_hour = 0.05\n"
         "max_nodes = 2\n";
  auto up = Swell({"up", "--config", dir_ + "/cluster.toml"});
  ASSERT_EQ(up.code, 0) << up.err;
  const std::string url =
      Read(home_ + "/head.http").substr(0, Read(home_ + "/head.http").find('\n'));
  httplib::Client http(url.substr(0, url.size() - 1));
  auto sub = Slurm("sbatch", {"-J", "grow-probe", "-o", "/dev/null", "--wrap", "sleep 60"});
  ASSERT_EQ(sub.code, 0) << sub.err;
  auto overview = [&] {
    auto r = http.Get("/api/overview");
    return r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
  };
  // Booting: the node the job asked for is on the page before it has joined.
  bool booting = false;
  for (int i = 0; i < 200 && !booting; ++i) {
    auto o = overview();
    booting =
        o.contains("nodes") && o["nodes"].contains("small") &&
        (o["nodes"]["small"].contains("BOOTING") || o["nodes"]["small"].contains("REQUESTED"));
    if (!booting) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(booting) << overview().dump();
  auto still_booting = [&] {
    auto o = overview();
    return o.contains("nodes") && o["nodes"].contains("small") &&
           o["nodes"]["small"].contains("BOOTING");
  };
  if (Installed("chromium")) {
    const std::string dom = Render(url, dir_ + "/chromium", "elastic-booting.png");
    EXPECT_NE(dom.find("small"), std::string::npos) << dom;
    // By type (BOOTING or REQUESTED, from the overview) and in the node list (Slurm's word).
    // The boot lasts 30 s; a machine so loaded that the render outlasts it says so instead.
    if (still_booting()) {
      EXPECT_TRUE(dom.find("BOOTING") != std::string::npos ||
                  dom.find("REQUESTED") != std::string::npos)
          << dom;
      EXPECT_NE(dom.find("POWERING_UP"), std::string::npos) << dom;
    } else {
      std::fprintf(stderr, "the node joined before the page was rendered: not checked\n");
    }
  }
  // Running on it, at the type's price.
  nlohmann::json o;
  for (int i = 0; i < 1200; ++i) {  // the 30 s boot, and a little
    o = overview();
    if (o.value("running_jobs", 0) == 1 && o.value("cost", 0.0) > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(o.value("running_jobs", 0), 1) << o.dump();
  EXPECT_EQ(o["running"][0]["name"], "grow-probe");
  EXPECT_DOUBLE_EQ(o.value("cost_per_hour", 0.0), 0.05) << o.dump();
  EXPECT_GT(o.value("cost", 0.0), 0.0);
  EXPECT_GE(o.value("nodes_created", 0), 1);
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("swell_nodes{type=\"small\",state=\"ALLOCATED\"} 1\n"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("swell_cost_rate 0.05\n"), std::string::npos) << metrics->body;
  if (Installed("promtool")) {
    std::ofstream(dir_ + "/metrics.txt") << metrics->body;
    auto check = Exec({"sh", "-c", "promtool check metrics < " + dir_ + "/metrics.txt"});
    EXPECT_EQ(check.code, 0) << check.out << check.err;
  }
  auto top = Swell({"top", "--once"});
  EXPECT_NE(top.out.find("cost    "), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("small"), std::string::npos) << top.out;
}

// `swell sim --report DIR`: one page with every compared policy's charts and the figures.
TEST_F(CliTest, SimReportShowsEveryPolicySideBySide) {
  auto r = Swell({"sim", "--compare", "clic,lookahead", "--report", dir_ + "/report"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("report: " + dir_ + "/report/index.html"), std::string::npos) << r.out;
  const std::string page = Read(dir_ + "/report/index.html");
  EXPECT_NE(page.find("<tr><td>clic</td>"), std::string::npos);
  EXPECT_NE(page.find("<tr><td>lookahead</td>"), std::string::npos);
  if (!Installed("chromium")) GTEST_SKIP() << "chromium is missing: scripts/setup installs it";
  const std::string dom =
      Render("file://" + dir_ + "/report/index.html", dir_ + "/chromium", "sim-report.png");
  for (const char* chart : {"jobs-0", "nodes-0", "jobs-1", "nodes-1"})
    EXPECT_GT(Attribute(dom, chart, "data-points"), 10) << chart << "\n" << dom.substr(0, 2000);
}

}  // namespace
}  // namespace swell::testing_cli
