#pragma once

// The dashboard the head serves (`http = "127.0.0.1:8080"` in the cluster file): one page (the
// cluster, a job, a node) with charts that update live, the JSON endpoints behind it, and
// Prometheus's /metrics. docs/dashboard.md lists the endpoints.
//
//   GET /                      the page (HTML, CSS, JavaScript and Chart.js, all in the binary)
//   GET /api/overview          head::Overview as JSON
//   GET /api/series            the charts' samples (series.h)
//   GET /api/jobs?state=&after=&limit=   a page of the active jobs
//   GET /api/job/ID            one job: its spec, tasks and history, the tail of its output
//   GET /api/nodes             every node: name, type, state, cpus and memory used
//   GET /api/node/NAME         one node and the running jobs on it
//   GET /api/usage             node-hours and cost per user (`swell stats`)
//   GET /metrics               Prometheus text (metrics.h)
//
// Loopback addresses serve plain HTTP to anyone on the host, as the head's unix socket
// serves its users. Any other address requires TLS (the head's certificate and key) and a
// token on every request (`Authorization: Bearer TOKEN`, or `?token=TOKEN` once, which sets a
// cookie): the cluster's TCP links are not opened wider than this either.
//
// Its requests run on threads of its own; each reads the head through the head's own calls
// (on its loop), so a page never sees a half-made change.

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"

namespace swell::head {
class Head;
}

namespace swell::web {

struct DashboardOptions {
  std::string address;              // "host:port"; port 0 takes any free port
  std::string cert_file, key_file;  // TLS: required unless the host is a loopback address
  std::string token;                // required with TLS
  Duration sample_every = std::chrono::seconds(5);
  size_t samples = 5760;  // the charts' span: 8 hours at 5 s
};

class Dashboard {
 public:
  // Binds and serves on threads of its own; `head` must outlive it. InvalidArgument for a
  // bad address, or a non-loopback one without TLS files and a token.
  static Result<std::unique_ptr<Dashboard>> Start(const DashboardOptions& options,
                                                  head::Head* head);
  ~Dashboard();  // stops serving
  int port() const;
  std::string url() const;  // "http://127.0.0.1:8080/" (https with TLS)

  class Impl;

 private:
  explicit Dashboard(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace swell::web
