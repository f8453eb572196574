// `swell nodes` and `swell stats`: the cluster's nodes and its accounting (node-hours, cost,
// waits, per user), as tables or as the head's JSON; `swell token`, a join token for a node on
// another machine.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "common/clock.h"
#include "common/local_time.h"
#include "common/slurm_format.h"
#include "tls/certs.h"
#include "tls/cluster_tls.h"

namespace swell::cli {

namespace {

// `swell CMD [--json]` (nodes, stats): asks the head with `ask` and prints its answer with
// `print`, told whether --json was given. Returns the exit code.
template <typename Request, typename Reply>
int AskAndPrint(const std::string& cmd, const Args& args,
                Result<Reply> (rpc::HeadClient::*ask)(const Request&),
                int (*print)(const Reply& reply, bool json)) {
  bool json = !args.empty() && args[0] == "--json";
  if (!args.empty() && !json) return Fail(cmd, "unknown option '" + args[0] + "' (--json)", 2);
  auto r = (*Connect(Home()).*ask)(Request());
  if (!r.ok()) return Fail(cmd, r.status());
  return print(*r, json);
}

int PrintNodes(const pb::NodesReply& r, bool json) {
  if (json) {
    PrintJson(r);
    return 0;
  }
  std::printf("%-12s %-13s %-10s %9s %15s %6s  %s\n", "NODE", "STATE", "PARTITION", "CPUS",
              "MEMORY(MB)", "GPUS", "HOST");
  for (const auto& n : r.nodes()) {
    std::string cpus = std::to_string(n.cpus_used()) + "/" + std::to_string(n.cpus());
    std::string mem = std::to_string(n.mem_used_mb()) + "/" + std::to_string(n.mem_mb());
    std::string gpus = std::to_string(n.gpus_used()) + "/" + std::to_string(n.gpus());
    std::printf("%-12s %-13s %-10s %9s %15s %6s  %s\n", n.name().c_str(), n.state().c_str(),
                n.partition().empty() ? "-" : n.partition().c_str(), cpus.c_str(), mem.c_str(),
                gpus.c_str(), n.hostname().c_str());
  }
  return 0;
}

int PrintStats(const pb::StatsReply& r, bool json) {
  if (json) {
    std::printf("%s\n", r.json().c_str());
    return 0;
  }
  auto j = nlohmann::json::parse(r.json(), nullptr, false);
  if (j.is_discarded()) return Fail("stats", "the head sent unreadable stats", 1);
  std::printf("jobs %lld (tasks %lld)   nodes created %lld, deleted %lld, at most %d at once\n",
              j["jobs"].get<long long>(), j["tasks"].get<long long>(),
              j["scale_ups"].get<long long>(), j["scale_downs"].get<long long>(),
              j["nodes_max"].get<int>());
  std::printf("node-hours paid %.4f, used by jobs %.4f: efficiency %.1f%%\n",
              j["node_hours"].get<double>(), j["job_hours"].get<double>(),
              100 * j["efficiency"].get<double>());
  std::printf(
      "cost %.4f (boot, idle and shutdown: %.4f)   wait p50 %.1f s, p95 %.1f s, max %.1f s\n",
      j["cost"].get<double>(), j["overhead_cost"].get<double>(), j["wait_p50_s"].get<double>(),
      j["wait_p95_s"].get<double>(), j["wait_max_s"].get<double>());
  std::printf("%-12s %6s %8s %12s %10s\n", "USER", "JOBS", "TASKS", "NODE-HOURS", "COST");
  for (const auto& [user, u] : j["users"].items())
    std::printf("%-12s %6lld %8lld %12.4f %10.4f\n", user.c_str(), u["jobs"].get<long long>(),
                u["tasks"].get<long long>(), u["job_hours"].get<double>(), u["cost"].get<double>());
  return 0;
}

}  // namespace

int Nodes(const Args& args) {
  return AskAndPrint("nodes", args, &rpc::HeadClient::Nodes, PrintNodes);
}

int Stats(const Args& args) {
  return AskAndPrint("stats", args, &rpc::HeadClient::Stats, PrintStats);
}

int Token(const Args& args) {
  CLI::App app{"swell token: a join token for a node on another machine (docs/security.md)"};
  std::string ttl = "1-0", node;
  int uses = 1;
  app.add_option("--ttl", ttl, "how long it admits nodes (Slurm's time format; default a day)");
  app.add_option("--uses", uses, "how many nodes it admits (default 1)");
  app.add_option("--node", node, "the one node name it admits (default any)");
  if (auto done = ParseFlags(app, args, "token")) return *done;
  auto d = ParseTimeLimit(ttl);
  if (!d.ok() || *d <= Duration::zero()) return Fail("token", "bad --ttl '" + ttl + "'", 2);
  pb::TokenRequest req;
  req.set_ttl_s(std::chrono::duration_cast<std::chrono::seconds>(*d).count());
  req.set_uses(uses);
  req.set_node(node);
  auto r = Connect(Home())->Token(req);
  if (!r.ok()) return Fail("token", r.status());
  std::printf("%s\n", r->token().c_str());
  return 0;
}

int Cert(const Args& args) {
  CLI::App app{"swell cert: a certificate to reach this cluster's head over TCP as yourself"};
  std::string out = UserTlsDir();
  app.add_option("--out", out, "where to keep it (default $SWELL_USER_TLS or ~/.swell/user-tls)");
  if (auto done = ParseFlags(app, args, "cert")) return *done;
  auto key = tls::NewKey();
  if (!key.ok()) return Fail("cert", key.status());
  auto public_key = tls::PublicKeyOf(*key);
  if (!public_key.ok()) return Fail("cert", public_key.status());
  pb::UserCertRequest req;
  req.set_public_key(*public_key);
  auto r = Connect(Home())->UserCert(req);
  if (!r.ok()) return Fail("cert", r.status());
  auto kept = tls::KeepIssuedFiles({out + "/ca.crt", out + "/user.crt", out + "/user.key"}, "",
                                   *key, r->cert(), r->ca_cert(), SystemClock().Now());
  if (!kept.ok()) return Fail("cert", kept.status());
  auto info = tls::Inspect(r->cert());
  std::printf("%s/user.crt: %s, until %s\n", out.c_str(),
              info.ok() ? info->common_name.c_str() : "?",
              info.ok() ? FormatTime(info->not_after).c_str() : "?");
  return 0;
}

int Revoke(const Args& args) {
  CLI::App app{"swell revoke: certificates of a node or a user admit nothing any more"};
  std::string name;
  app.add_option("name", name, "node:NAME (a node that joined) or user:NAME")->required();
  if (auto done = ParseFlags(app, args, "revoke")) return *done;
  pb::RevokeRequest req;
  req.set_name(name);
  auto r = Connect(Home())->Revoke(req);
  if (!r.ok()) return Fail("revoke", r.status());
  std::printf("%s: certificates issued until %s are revoked%s\n", name.c_str(),
              FormatTime(FromMillis(r->at_ms())).c_str(),
              r->closed() ? "; its session was closed and its work given up" : "");
  return 0;
}

int Rotate(const Args& args) {
  CLI::App app{"swell rotate: new certificates without downtime (docs/security.md)"};
  bool new_ca = false, finish = false, force = false;
  app.add_flag("--new-ca", new_ca, "start a CA rollover: a new CA signs, both are trusted");
  app.add_flag("--finish", finish, "end the rollover: the old CA is trusted no more");
  app.add_flag("--force", force, "--finish although nodes still hold the old CA's certificates");
  if (auto done = ParseFlags(app, args, "rotate")) return *done;
  if (new_ca && finish) return Fail("rotate", "--new-ca or --finish, not both", 2);
  pb::RotateRequest req;
  req.set_step(new_ca   ? pb::RotateRequest::NEW_CA
               : finish ? pb::RotateRequest::FINISH
                        : pb::RotateRequest::LEAVES);
  req.set_force(force);
  auto r = Connect(Home())->Rotate(req);
  if (!r.ok()) return Fail("rotate", r.status());
  if (r->pending_size() > 0 && !force) {
    std::string names;
    for (const auto& n : r->pending()) names += (names.empty() ? "" : ",") + n;
    return Fail("rotate",
                "nodes still hold a certificate of the old CA: " + names +
                    " (they renew within minutes while connected; --force ends the rollover "
                    "without them, and they then need a new join token)",
                1);
  }
  std::printf("%s; %d node(s) renew their certificates within seconds; %d CA(s) trusted\n",
              new_ca   ? "a new CA signs from now on (then: swell rotate --finish)"
              : finish ? "the old CA is trusted no more; the head has a certificate of the new one"
                       : "the head has a new certificate",
              r->nodes(), r->cas());
  return 0;
}

}  // namespace swell::cli
