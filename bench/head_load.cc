// The head under load, over its real transport (bench/run head-scale; docs/BENCHMARKS.md).
//
//   head_load nodes --head HOST:PORT --token T --count 1000 --dir DIR
//       [--cpus 1] [--job-seconds 30] [--heartbeat-seconds 1]
//     Plays `count` nodes, each its own TLS connection and node session: it joins with the token
//     (its own key, a `node:<name>` certificate), registers, heartbeats, and runs what the head
//     launches on it by reporting it started and, `job-seconds` later, ended with exit 0. Prints
//     "ready N" once every node is registered, then a status line every 10 s; runs until
//     SIGINT or SIGTERM.
//
//   head_load submit --head unix:PATH --seconds 60 [--threads 8] [--at-least 0] [--acked-file F]
//     Submits `sleep 600` batch jobs (with this process's environment, as sbatch sends it) from
//     `threads` connections (made before the clock starts) for `seconds`, and on until `at-least`
//     were acknowledged. Prints one JSON line: acknowledged, refused, seconds, rate, the slowest
//     whole second's count, the first and last job id, and the count of every whole second; every
//     acknowledged id goes to `acked-file`. After 100 refusals (a head that was killed) it stops.
//
// Neither runs a process for a job: what is measured is the head.

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/secret.h"
#include "node/join.h"
#include "rpc/client.h"
#include "tls/cluster_tls.h"

extern char** environ;

namespace swell {
namespace {

using Clock = std::chrono::steady_clock;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// SIGINT/SIGTERM, blocked in every thread, awaited by one.
sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

struct Running {
  pb::TaskKey key;
  int64_t start_ms;
  Clock::time_point ends;
};

// One node's session, driven by gRPC's callback API: the head's messages are handled on
// gRPC's threads (a thread blocked reading each of 1,000 sessions took most of this process's
// cpu, and so the head's, in the seconds when 1,000 jobs start at once: docs/BENCHMARKS.md).
class FakeNode final : public rpc::Receiver<pb::HeadMessage> {
 public:
  explicit FakeNode(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  bool registered() const { return registered_; }
  int running() const {
    std::lock_guard<std::mutex> l(mu_);
    return static_cast<int>(running_.size());
  }

  Status Open(const std::string& head, const std::string& tls_dir, int cpus) {
    const auto files = tls::NodeFilesIn(tls_dir);
    client_ = rpc::HeadClient::Create({head, "", {files.ca, files.cert, files.key}});
    SWELL_ASSIGN_OR_RETURN(link_, client_->StartNodeSession(this));
    pb::NodeMessage m;
    auto* r = m.mutable_register_();
    r->set_name(name_);
    auto instance = GenerateSecret();
    r->set_instance(instance.ok() ? instance->substr(0, 16) : name_);
    r->set_hostname(name_);
    r->mutable_resources()->set_cpus(cpus);
    r->mutable_resources()->set_mem_mb(1024);
    r->set_pid(getpid());
    r->set_next_seq(1);
    link_->Send(std::move(m));
    return Status::Ok();
  }

  // Heartbeats when due and reports the jobs that ended; called by one ticker thread.
  void Tick(Clock::time_point now, std::chrono::milliseconds heartbeat) {
    if (!registered_) return;
    pb::NodeMessage ends;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (size_t i = 0; i < running_.size();) {
        if (running_[i].ends > now) {
          ++i;
          continue;
        }
        auto* rep = ends.mutable_reports()->add_reports();
        *rep->mutable_key() = running_[i].key;
        rep->set_time_ms(WallMs());
        rep->set_start_ms(running_[i].start_ms);
        running_[i] = running_.back();
        running_.pop_back();
      }
    }
    if (ends.has_reports()) Report(&ends);
    if (now >= next_heartbeat_) {
      pb::NodeMessage hb;
      hb.set_heartbeat(true);
      link_->Send(std::move(hb));
      next_heartbeat_ = now + heartbeat;
    }
  }

  // Ends the session (the head sees the node go); destroying the node waits for its end.
  void Close() {
    if (link_) link_->Close();
  }

  std::chrono::seconds job_time{30};

 private:
  // Seqs go up by one per report; a batch carries its last.
  void Report(pb::NodeMessage* m) {
    std::lock_guard<std::mutex> l(seq_mu_);
    next_seq_ += static_cast<uint64_t>(m->reports().reports_size());
    m->mutable_reports()->set_seq(next_seq_ - 1);
    link_->Send(std::move(*m));
  }

  bool OnMessage(pb::HeadMessage& msg) override {
    if (msg.has_registered()) {
      if (!msg.registered().ok()) {
        std::fprintf(stderr, "head_load: node %s refused: %s\n", name_.c_str(),
                     msg.registered().message().c_str());
        return false;
      }
      registered_ = true;
    }
    pb::NodeMessage reports;
    const auto now = Clock::now();
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& c : msg.cancels()) {
      if (c.signal() != 0) continue;
      for (size_t i = 0; i < running_.size();) {
        const auto& k = running_[i].key;
        bool hit = k.job_id() == c.job_id() &&
                   (c.positions().empty() || std::find(c.positions().begin(), c.positions().end(),
                                                       k.pos()) != c.positions().end());
        if (!hit) {
          ++i;
          continue;
        }
        auto* rep = reports.mutable_reports()->add_reports();
        *rep->mutable_key() = k;
        rep->set_time_ms(WallMs());
        rep->set_start_ms(running_[i].start_ms);
        rep->set_cancelled(true);
        rep->set_signal(SIGTERM);
        running_[i] = running_.back();
        running_.pop_back();
      }
    }
    for (const auto& launch : msg.launches())
      for (const auto& key : launch.tasks()) {
        auto* rep = reports.mutable_reports()->add_reports();
        *rep->mutable_key() = key;
        rep->set_started(true);
        rep->set_time_ms(WallMs());
        rep->set_pid(getpid());
        running_.push_back({key, rep->time_ms(), now + job_time});
      }
    if (reports.has_reports()) Report(&reports);
    return true;
  }
  void OnEnd() override {}

  const std::string name_;
  std::unique_ptr<rpc::HeadClient> client_;
  std::mutex seq_mu_;  // sends reports in the order of their seqs; guards next_seq_
  uint64_t next_seq_ = 1;
  mutable std::mutex mu_;
  std::vector<Running> running_;  // GUARDED_BY(mu_)
  std::atomic<bool> registered_{false};
  Clock::time_point next_heartbeat_{};  // the ticker's own
  // Last: destroyed first, it waits for the session's end, and OnMessage may run till then.
  std::unique_ptr<rpc::Sender<pb::NodeMessage>> link_;
};

// Runs `fn(i)` for i in [0, n) on `threads` threads.
template <typename Fn>
void ParallelFor(int n, int threads, Fn fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i; (i = next++) < n;) fn(i);
    });
  for (auto& t : pool) t.join();
}

int Nodes(const std::string& head, const std::string& token, int count, const std::string& dir,
          int cpus, int job_seconds, double heartbeat_s) {
  std::vector<std::unique_ptr<FakeNode>> nodes;
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "load%04d", i + 1);
    nodes.push_back(std::make_unique<FakeNode>(name));
    nodes.back()->job_time = std::chrono::seconds(job_seconds);
  }
  const auto t0 = Clock::now();
  // Ticking from the start: a node registered early heartbeats while the others join (the
  // head marks a node down after 10 s of silence; joining 1,000 takes longer).
  std::atomic<bool> stop{false};
  const auto heartbeat = std::chrono::milliseconds(static_cast<int64_t>(heartbeat_s * 1000));
  std::thread ticker([&] {
    while (!stop) {
      const auto now = Clock::now();
      for (auto& n : nodes) n->Tick(now, heartbeat);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::atomic<int> failed{0};
  ParallelFor(count, 4, [&](int i) {
    auto& n = *nodes[static_cast<size_t>(i)];
    const std::string tls_dir = dir + "/" + n.name();
    Status s = std::filesystem::exists(tls_dir) ? Status::Ok()
                                                : node::JoinWithToken(head, token, n.name(), tls_dir);
    if (s.ok()) s = n.Open(head, tls_dir, cpus);
    if (!s.ok()) {
      std::fprintf(stderr, "head_load: %s: %s\n", n.name().c_str(), s.ToString().c_str());
      ++failed;
    }
  });
  if (failed > 0) {
    stop = true;
    ticker.join();
    for (auto& n : nodes) n->Close();
    return 1;
  }
  bool ready = false;
  auto next_status = Clock::now();
  sigset_t set = StopSignals();
  timespec poll{0, 100'000'000};
  while (sigtimedwait(&set, nullptr, &poll) < 0) {
    int registered = 0, running = 0;
    for (auto& n : nodes) registered += n->registered(), running += n->running();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!ready && registered == count) {
      ready = true;
      std::printf("ready %d nodes in %.1f s\n", count, secs);
      std::fflush(stdout);
    }
    if (Clock::now() >= next_status) {
      std::fprintf(stderr, "head_load: %.0f s: %d of %d nodes registered, %d jobs running\n",
                   secs, registered, count, running);
      next_status = Clock::now() + std::chrono::seconds(10);
    }
  }
  stop = true;
  ticker.join();
  for (auto& n : nodes) n->Close();
  return 0;
}

int Submit(const std::string& head, double seconds, int threads, int64_t at_least,
           const std::string& acked_file) {
  pb::SubmitRequest req;
  auto* spec = req.mutable_spec();
  spec->set_name("load");
  spec->set_script("#!/bin/sh\nsleep 600\n");
  spec->set_work_dir("/tmp");
  spec->set_submit_dir("/tmp");
  spec->set_output("/dev/null");
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) (*spec->mutable_env())[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  // Every connection made before the clock starts: what is counted is the head taking
  // submissions, not this process setting up 32 channels in its first second.
  std::vector<std::unique_ptr<rpc::HeadClient>> clients;
  for (int t = 0; t < threads; ++t) {
    clients.push_back(rpc::HeadClient::Create({head, "", {}}));
    if (Status s = clients.back()->WaitReady(std::chrono::seconds(10)); !s.ok()) {
      std::fprintf(stderr, "head_load: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  std::atomic<int64_t> acked{0}, refused{0}, first{INT64_MAX}, last{0};
  const auto t0 = Clock::now();
  const auto until = t0 + std::chrono::duration<double>(seconds);
  std::atomic<bool> done{false};
  std::vector<int64_t> per_second;
  std::thread sampler([&] {
    int64_t before = 0;
    for (auto tick = t0 + std::chrono::seconds(1); !done; tick += std::chrono::seconds(1)) {
      std::this_thread::sleep_until(tick);
      int64_t now = acked;
      per_second.push_back(now - before);
      before = now;
    }
  });
  std::mutex ids_mu;
  std::vector<int64_t> ids;  // GUARDED_BY(ids_mu): every id acknowledged
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, client = clients[static_cast<size_t>(t)].get()] {
      std::vector<int64_t> mine;
      while (Clock::now() < until || acked < at_least) {
        auto r = client->Submit(req);
        if (!r.ok()) {
          if (refused++ == 0)
            std::fprintf(stderr, "head_load: submit refused: %s\n", r.status().ToString().c_str());
          if (refused > 100) break;
          continue;
        }
        ++acked;
        int64_t id = r->job_id(), f = first;
        mine.push_back(id);
        while (id < f && !first.compare_exchange_weak(f, id)) {
        }
        int64_t l = last;
        while (id > l && !last.compare_exchange_weak(l, id)) {
        }
      }
      std::lock_guard<std::mutex> lock(ids_mu);
      ids.insert(ids.end(), mine.begin(), mine.end());
    });
  for (auto& t : pool) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  done = true;
  sampler.join();
  // Whole seconds only: the last one may be cut short by the end of the run.
  int64_t slowest = INT64_MAX;
  for (size_t i = 0; i + 1 < per_second.size(); ++i) slowest = std::min(slowest, per_second[i]);
  if (slowest == INT64_MAX) slowest = 0;
  if (!acked_file.empty()) {
    std::sort(ids.begin(), ids.end());
    if (FILE* f = std::fopen(acked_file.c_str(), "w")) {
      for (int64_t id : ids) std::fprintf(f, "%lld\n", static_cast<long long>(id));
      std::fclose(f);
    }
  }
  std::string each;
  for (size_t i = 0; i + 1 < per_second.size(); ++i)
    each += (i ? ", " : "") + std::to_string(per_second[i]);
  std::printf(
      "{\"acknowledged\": %lld, \"refused\": %lld, \"seconds\": %.2f, \"rate\": %.0f, "
      "\"slowest_second\": %lld, \"first_id\": %lld, \"last_id\": %lld, "
      "\"per_second\": [%s]}\n",
      static_cast<long long>(acked.load()), static_cast<long long>(refused.load()), secs,
      acked / secs, static_cast<long long>(slowest), static_cast<long long>(first.load()),
      static_cast<long long>(last.load()), each.c_str());
  return refused > 0 ? 1 : 0;
}

}  // namespace
}  // namespace swell

int main(int argc, char** argv) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);  // ends with the driver (bench/head_scale.py), come what may
  sigset_t set = swell::StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  CLI::App app{"head_load: the head under load over its real transport"};
  app.require_subcommand(1);
  std::string head, token, dir;
  int count = 1000, cpus = 1, job_seconds = 30, threads = 8;
  double heartbeat = 1, seconds = 60;
  int64_t at_least = 0;
  std::string acked_file;
  auto* nodes = app.add_subcommand("nodes", "play nodes");
  nodes->add_option("--head", head, "host:port of a TLS head")->required();
  nodes->add_option("--token", token, "a join token for --count uses")->required();
  nodes->add_option("--count", count)->check(CLI::Range(1, 100000));
  nodes->add_option("--dir", dir, "where each node keeps its certificate")->required();
  nodes->add_option("--cpus", cpus)->check(CLI::Range(1, 1024));
  nodes->add_option("--job-seconds", job_seconds)->check(CLI::NonNegativeNumber);
  nodes->add_option("--heartbeat-seconds", heartbeat)->check(CLI::PositiveNumber);
  auto* submit = app.add_subcommand("submit", "submit jobs");
  submit->add_option("--head", head, "unix:PATH of the head's socket")->required();
  submit->add_option("--seconds", seconds)->check(CLI::PositiveNumber);
  submit->add_option("--threads", threads)->check(CLI::Range(1, 256));
  submit->add_option("--at-least", at_least)->check(CLI::NonNegativeNumber);
  submit->add_option("--acked-file", acked_file, "where to write every acknowledged job id");
  CLI11_PARSE(app, argc, argv);
  if (nodes->parsed())
    return swell::Nodes(head, token, count, dir, cpus, job_seconds, heartbeat);
  return swell::Submit(head, seconds, threads, at_least, acked_file);
}
