// The dashboard's HTTP adapter (dashboard.h): cpp-httplib's server, kept inside this file.

#include "web/dashboard.h"

#include <sys/stat.h>
#include <unistd.h>

#include <google/protobuf/util/json_util.h>
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/log.h"
#include "common/text.h"
#include "head/head.h"
#include "web/assets.h"
#include "web/metrics.h"
#include "web/series.h"

namespace swell::web {

namespace {

constexpr int kMaxPage = 1000;     // jobs per /api/jobs answer
constexpr size_t kTail = 4096;     // bytes of a job's output on its page

std::string ProtoJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

// The last kTail bytes of `path` when any user of this host may read it anyway (others may
// read it): the page shows nothing a local user could not `tail` themselves.
std::string Tail(const std::string& path) {
  struct stat st{};
  if (path.empty() || stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      !(st.st_mode & S_IROTH))
    return "";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  const auto size = static_cast<size_t>(st.st_size);
  if (size > kTail) in.seekg(static_cast<std::streamoff>(size - kTail));
  std::string out(std::min(size, kTail), '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

void Json(httplib::Response& res, const std::string& body) {
  res.set_header("Cache-Control", "no-store");
  res.set_content(body, "application/json");
}

// Users' text (job names, commands, output) need not be UTF-8: bad bytes become U+FFFD.
void Json(httplib::Response& res, const nlohmann::json& j) {
  Json(res, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void Fail(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  Json(res, nlohmann::json{{"error", message}});
}

}  // namespace

class Dashboard::Impl {
 public:
  Impl(const DashboardOptions& o, head::Head* head) : o_(o), head_(head), series_(o.samples) {
    caller_.local = true;
    caller_.uid = getuid();
    caller_.user = "dashboard";
    caller_.peer = "dashboard";
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (server_) server_->stop();
    if (serve_.joinable()) serve_.join();
    if (sampler_.joinable()) sampler_.join();
  }

  Status Start() {
    auto hp = ParseHostPort(o_.address);
    if (!hp) return InvalidArgument("http: expected host:port, not '" + o_.address + "'");
    host_ = hp->host;
    tls_ = !IsLoopbackHost(host_);
    if (tls_) {
      if (o_.cert_file.empty() || o_.key_file.empty())
        return InvalidArgument("http: " + o_.address +
                               " is not a loopback address: it needs TLS, which a cluster with "
                               "[cluster] tcp set has; bind the dashboard to 127.0.0.1 otherwise");
      if (o_.token.empty()) return InvalidArgument("http: a non-loopback address needs a token");
      auto ssl = std::make_unique<httplib::SSLServer>(o_.cert_file.c_str(), o_.key_file.c_str());
      if (!ssl->is_valid())
        return InvalidArgument("http: cannot use the certificate " + o_.cert_file + " and key " +
                               o_.key_file);
      server_ = std::move(ssl);
    } else {
      server_ = std::make_unique<httplib::Server>();
    }
    Routes();
    int bound = hp->port == 0 ? server_->bind_to_any_port(host_.c_str())
                              : (server_->bind_to_port(host_.c_str(), hp->port) ? hp->port : -1);
    if (bound < 0) return Unavailable("http: cannot listen on " + o_.address);
    port_ = bound;
    serve_ = std::thread([this] { server_->listen_after_bind(); });
    sampler_ = std::thread([this] { Sample(); });
    return Status::Ok();
  }

  int port() const { return port_; }
  std::string url() const {
    std::string h = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
    return (tls_ ? "https://" : "http://") + h + ":" + std::to_string(port_) + "/";
  }

 private:
  // The charts' samples, every sample_every until the dashboard stops.
  void Sample() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      lock.unlock();
      auto o = head_->Snapshot();
      if (o.ok()) series_.Add(SampleOf(*o));
      lock.lock();
      cv_.wait_for(lock, o_.sample_every, [this] { return stopping_; });
    }
  }

  bool Allowed(const httplib::Request& req, httplib::Response& res) {
    if (!tls_) return true;
    const std::string want = "Bearer " + o_.token;
    if (req.get_header_value("Authorization") == want) return true;
    const std::string cookie = "swell_token=" + o_.token;
    if (req.get_header_value("Cookie").find(cookie) != std::string::npos) return true;
    if (req.has_param("token") && req.get_param_value("token") == o_.token) {
      res.set_header("Set-Cookie", cookie + "; Path=/; Secure; HttpOnly; SameSite=Strict");
      return true;
    }
    Fail(res, 401, "this dashboard needs its token: ?token=... or Authorization: Bearer ...");
    return false;
  }

  // Registers `path` (GET) behind the token check.
  template <typename F>
  void Get(const std::string& path, F f) {
    server_->Get(path, [this, f](const httplib::Request& req, httplib::Response& res) {
      if (Allowed(req, res)) f(req, res);
    });
  }

  void Routes() {
    for (const auto& a : Assets())
      Get(a.path, [a](const httplib::Request&, httplib::Response& res) {
        res.set_content(std::string(a.data, a.size), a.type);
      });
    Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      auto o = head_->Snapshot();
      if (!o.ok()) return Fail(res, 503, o.status().ToString());
      res.set_content(PrometheusText(*o), "text/plain; version=0.0.4; charset=utf-8");
    });
    Get("/api/overview", [this](const httplib::Request&, httplib::Response& res) {
      auto o = head_->Snapshot();
      if (!o.ok()) return Fail(res, 503, o.status().ToString());
      Json(res, head::ToJson(*o));
    });
    Get("/api/series", [this](const httplib::Request&, httplib::Response& res) {
      Json(res, series_.Json());
    });
    Get("/api/usage", [this](const httplib::Request&, httplib::Response& res) {
      auto s = head_->Stats(caller_, {});
      if (!s.ok()) return Fail(res, 503, s.status().ToString());
      Json(res, s->json());
    });
    Get("/api/jobs", [this](const httplib::Request& req, httplib::Response& res) { Jobs(req, res); });
    Get(R"(/api/job/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
      JobPage(req, res);
    });
    Get("/api/nodes", [this](const httplib::Request&, httplib::Response& res) {
      auto r = head_->Nodes(caller_, {});
      if (!r.ok()) return Fail(res, 503, r.status().ToString());
      nlohmann::json nodes = nlohmann::json::array();
      for (const auto& n : r->nodes())
        nodes.push_back({{"name", n.name()}, {"type", n.partition()}, {"state", n.state()},
                         {"phase", n.phase()}, {"cpus", n.cpus()}, {"cpus_used", n.cpus_used()},
                         {"mem_mb", n.mem_mb()}, {"mem_used_mb", n.mem_used_mb()},
                         {"gpus", n.gpus()}, {"reason", n.reason()}});
      Json(res, nlohmann::json{{"nodes", nodes}});
    });
    Get(R"(/api/node/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      NodePage(req, res);
    });
  }

  void Jobs(const httplib::Request& req, httplib::Response& res) {
    pb::QueueRequest q;
    q.set_state(req.get_param_value("state"));
    auto after = ParseDigits(req.has_param("after") ? req.get_param_value("after") : "0");
    auto limit = ParseDigits(req.has_param("limit") ? req.get_param_value("limit") : "100");
    if (!after || !limit || *limit < 1) return Fail(res, 400, "after and limit are numbers; limit >= 1");
    q.set_after_id(*after);
    q.set_limit(static_cast<int32_t>(std::min<int64_t>(*limit, kMaxPage)));
    auto r = head_->Queue(caller_, q);
    if (!r.ok()) return Fail(res, 503, r.status().ToString());
    nlohmann::json jobs = nlohmann::json::array();
    for (const auto& j : r->jobs()) {
      std::string nodes;
      for (const auto& n : j.nodes()) nodes += (nodes.empty() ? "" : ",") + n;
      jobs.push_back({{"id", j.id()},
                      {"name", j.name()},
                      {"user", j.user()},
                      {"state", pb::JobState_Name(j.state())},
                      {"reason", j.reason()},
                      {"partition", j.partition()},
                      {"nodes", nodes},
                      {"tasks", j.task_count()},
                      {"submit_ms", j.submit_ms()},
                      {"start_ms", j.start_ms()}});
    }
    Json(res, nlohmann::json{{"jobs", jobs}});
  }

  void JobPage(const httplib::Request& req, httplib::Response& res) {
    auto id = ParseDigits(req.matches[1].str());
    if (!id) return Fail(res, 400, "not a job id");
    pb::InfoRequest q;
    q.mutable_job()->set_job_id(*id);
    auto r = head_->Info(caller_, q);
    if (!r.ok()) return Fail(res, r.status().code() == Code::kNotFound ? 404 : 503, r.status().ToString());
    pb::JobInfo job = r->job();
    std::string out = Tail(job.stdout_path()), err;
    if (job.stderr_path() != job.stdout_path()) err = Tail(job.stderr_path());
    job.mutable_spec()->clear_env();  // users' tokens live there
    job.mutable_spec()->clear_script();
    auto j = nlohmann::json::parse(ProtoJson(job), nullptr, false);
    j["state"] = pb::JobState_Name(job.state());
    nlohmann::json argv = nlohmann::json::array();  // bytes in the proto: as text here
    for (const auto& a : job.spec().argv()) argv.push_back(a);
    j["spec"]["argv"] = argv;
    j["stdout_tail"] = out;
    j["stderr_tail"] = err;
    Json(res, j);
  }

  void NodePage(const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    auto nodes = head_->Nodes(caller_, {});
    if (!nodes.ok()) return Fail(res, 503, nodes.status().ToString());
    for (const auto& n : nodes->nodes()) {
      if (n.name() != name) continue;
      auto j = nlohmann::json::parse(ProtoJson(n), nullptr, false);
      nlohmann::json running = nlohmann::json::array();
      if (auto o = head_->Snapshot(); o.ok())
        for (const auto& r : o->running)
          if (("," + r.nodes + ",").find("," + name + ",") != std::string::npos)
            running.push_back({{"id", r.id}, {"name", r.name}, {"user", r.user},
                               {"start_ms", r.start_ms}, {"tasks_running", r.tasks_running}});
      j["running"] = running;
      return Json(res, j);
    }
    Fail(res, 404, "no node " + name);
  }

  const DashboardOptions o_;
  head::Head* head_;
  rpc::Caller caller_;
  Series series_;
  std::unique_ptr<httplib::Server> server_;
  std::string host_;
  bool tls_ = false;
  int port_ = 0;
  std::thread serve_, sampler_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
};

Result<std::unique_ptr<Dashboard>> Dashboard::Start(const DashboardOptions& options,
                                                    head::Head* head) {
  auto impl = std::make_unique<Impl>(options, head);
  SWELL_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<Dashboard>(new Dashboard(std::move(impl)));
}

Dashboard::Dashboard(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Dashboard::~Dashboard() = default;
int Dashboard::port() const { return impl_->port(); }
std::string Dashboard::url() const { return impl_->url(); }

}  // namespace swell::web
