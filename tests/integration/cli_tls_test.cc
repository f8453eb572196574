// The cluster's credentials as users and nodes on other machines meet them: TLS on the TCP
// link, join tokens, user certificates, revocation and rotation (docs/security.md), with the
// real `swell` binary and daemons.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli_harness.h"

namespace swell::testing_cli {
namespace {

// `swell nodes` as from another machine: over TCP to `head`, with the user's certificate in
// `tls_dir`.
Out NodesOverTcp(const std::string& head, const std::string& tls_dir) {
  setenv("SWELL_HEAD", head.c_str(), 1);
  setenv("SWELL_USER_TLS", tls_dir.c_str(), 1);
  auto r = Exec({SWELL_BIN, "nodes"});
  unsetenv("SWELL_HEAD");
  unsetenv("SWELL_USER_TLS");
  return r;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

// A cluster that listens on TCP speaks TLS only there (TLS 1.3 with OpenSSL's client, the
// head's certificate from the cluster's CA); a plaintext client gets nothing, a node with the
// secret but no certificate cannot join, and the files that hold keys, the secret and job data
// are their owner's only (docs/security.md).
TEST_F(CliTest, ATcpClusterSpeaksOnlyTlsThereAndKeepsItsKeysPrivate) {
  std::ofstream(dir_ + "/cluster.toml") << "[cluster]\nnodes = 1\ntcp = \"127.0.0.1:0\"\n";
  Up();
  std::string port = Read(home_ + "/head.port");
  port = port.substr(0, port.find('\n'));
  ASSERT_FALSE(port.empty());
  auto hello = Exec({"openssl", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_3", "-CAfile",
                     home_ + "/tls/ca.crt", "-verify_return_error", "-brief"});
  EXPECT_NE((hello.out + hello.err).find("Protocol version: TLSv1.3"), std::string::npos)
      << hello.out << hello.err;
  EXPECT_NE((hello.out + hello.err).find("Verification: OK"), std::string::npos) << hello.err;

  // gRPC without TLS (plain HTTP/2), even with the secret at hand.
  setenv("SWELL_HEAD", ("127.0.0.1:" + port).c_str(), 1);
  auto plain = Swell({"nodes"});
  unsetenv("SWELL_HEAD");
  EXPECT_NE(plain.code, 0) << plain.out;

  // A node with the secret but no certificate.
  std::string other = dir_ + "/rogue-home";
  ASSERT_EQ(mkdir(other.c_str(), 0700), 0);
  std::filesystem::copy_file(home_ + "/secret", other + "/secret");
  auto rogue = Exec({"timeout", "3", SWELL_BIN, "node", "--home", other, "--name", "rogue",
                     "--head", "127.0.0.1:" + port});
  auto nodes = Swell({"nodes"});
  EXPECT_EQ(nodes.code, 0) << nodes.err;
  EXPECT_EQ(nodes.out.find("rogue"), std::string::npos) << nodes.out << rogue.err;
  EXPECT_NE(nodes.out.find("node1"), std::string::npos) << nodes.out;

  for (const char* file : {"/state.db", "/secret", "/cluster.toml", "/tls/ca.key", "/tls/head.key"})
    EXPECT_EQ(ModeOf(home_ + file), 0600u) << file;
  EXPECT_EQ(ModeOf(home_ + "/tls"), 0700u);
}

// A user on another machine: `swell cert` on the head's host (the unix socket names the user)
// gives a certificate with which the same commands work over TCP as that user; asked for over
// TCP it is refused. (A node's certificate acts for no user: TlsServerTest.)
TEST_F(CliTest, AUserCertificateReachesTheHeadOverTcpAsThatUser) {
  std::string head;
  UpOverTcp(&head);
  ASSERT_FALSE(head.empty());
  const std::string mine = dir_ + "/my-tls";
  auto made = Swell({"cert", "--out", mine});
  ASSERT_EQ(made.code, 0) << made.err;
  EXPECT_NE(made.out.find("user:" + Me()), std::string::npos) << made.out;
  EXPECT_EQ(ModeOf(mine), 0700u);
  EXPECT_EQ(ModeOf(mine + "/user.key"), 0600u);

  setenv("SWELL_HEAD", head.c_str(), 1);
  setenv("SWELL_USER_TLS", mine.c_str(), 1);
  auto id = SubmitOk({"--wrap", "id -un"});
  auto info = WaitFor(id, [](const nlohmann::json& j) { return j["state"] == "COMPLETED"; });
  EXPECT_EQ(info["state"], "COMPLETED");
  EXPECT_EQ(info["user"], Me());
  auto again = Swell({"cert", "--out", dir_ + "/other-tls"});
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.err.find("local socket only"), std::string::npos) << again.err;
  unsetenv("SWELL_HEAD");
  unsetenv("SWELL_USER_TLS");
}

// CLIC's hybrid cluster: a node on another machine, which has nothing of the cluster's but a
// join token, gets its certificate with the token and runs jobs; the token admits no second
// machine, and a certificate admits only the node it names.
TEST_F(CliTest, ANodeElsewhereJoinsWithATokenOnce) {
  std::string head, token;
  pid_t pid = UpWithAJoinedNode("far1", &head, &token);
  ASSERT_NE(pid, 0) << Read(dir_ + "/far1.log");
  const std::string far = dir_ + "/far";
  auto node = [&](const std::string& name, const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {"timeout", "20", SWELL_BIN, "node", "--home", far,
                                     "--name",  name, "--head",  head,   "--cpus", "1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  };
  auto run = Swell({"run", "-w", "far1", "--", "echo", "ran on far1"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "ran on far1\n");
  EXPECT_EQ(ModeOf(far + "/nodes/far1/tls"), 0700u);
  EXPECT_EQ(ModeOf(far + "/nodes/far1/tls/node.key"), 0600u);
  EXPECT_NE(access((far + "/secret").c_str(), F_OK), 0) << "the secret travelled";

  auto second = Exec(node("far2", {"--token", token}));
  EXPECT_NE(second.code, 0);
  EXPECT_NE(second.err.find("the join token has been used"), std::string::npos) << second.err;
  auto forged =
      Exec(node("far2", {"--token", "0123456789abcdef.0123456789abcdef0123456789abcdef"}));
  EXPECT_NE(forged.code, 0);
  EXPECT_NE(forged.err.find("not valid"), std::string::npos) << forged.err;
  // far1's certificate and key, copied to name another node.
  std::filesystem::create_directories(far + "/nodes/far3");
  std::filesystem::copy(far + "/nodes/far1/tls", far + "/nodes/far3/tls",
                        std::filesystem::copy_options::recursive);
  auto impostor = Exec(node("far3", {}));
  EXPECT_NE(impostor.code, 0);
  EXPECT_NE(impostor.err.find("does not name node far3"), std::string::npos) << impostor.err;
  auto nodes = Swell({"nodes"});
  EXPECT_EQ(nodes.out.find("far2"), std::string::npos) << nodes.out;
  EXPECT_EQ(nodes.out.find("far3"), std::string::npos) << nodes.out;
  kill(pid, SIGTERM);
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
}

// `swell revoke`: a joined node's certificate stops admitting it (its session ends, the head
// gives it up and takes no new session from it), a user's certificate stops admitting the user,
// and a certificate issued after the revocation admits again.
TEST_F(CliTest, RevokedCertificatesAdmitNothingAndNewOnesDo) {
  std::string head;
  pid_t pid = UpWithAJoinedNode("far1", &head);
  ASSERT_NE(pid, 0) << Read(dir_ + "/far1.log");
  EXPECT_EQ(NodeState("far1"), "IDLE");

  EXPECT_NE(Swell({"revoke", "far1"}).code, 0) << "a name without node: or user:";
  auto revoked = Swell({"revoke", "node:far1"});
  ASSERT_EQ(revoked.code, 0) << revoked.err;
  EXPECT_NE(revoked.out.find("session was closed"), std::string::npos) << revoked.out;
  EXPECT_EQ(NodeState("far1"), "DOWN");
  // far1 reconnects with the same certificate: refused, saying why, so it stops (exit 1) and
  // stays down.
  int status = 0;
  pid_t ended = 0;
  for (int i = 0; i < 500 && ended == 0; ++i) {
    ended = waitpid(pid, &status, WNOHANG);
    if (ended == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(ended, pid) << "far1 still runs: " << Read(dir_ + "/far1.log");
  if (ended == pid) {
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
  } else {
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
  }
  EXPECT_NE(Read(dir_ + "/far1.log").find("revoked"), std::string::npos)
      << Read(dir_ + "/far1.log");
  EXPECT_EQ(NodeState("far1"), "DOWN");

  const std::string mine = dir_ + "/my-tls";
  ASSERT_EQ(Swell({"cert", "--out", mine}).code, 0);
  auto over_tcp = [&] { return NodesOverTcp(head, mine); };
  EXPECT_EQ(over_tcp().code, 0);
  ASSERT_EQ(Swell({"revoke", "user:" + Me()}).code, 0);
  auto refused = over_tcp();
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("revoked"), std::string::npos) << refused.err;
  // Issue times have a second's grain: a certificate of the next second admits again.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_EQ(Swell({"cert", "--out", mine}).code, 0);
  auto again = over_tcp();
  EXPECT_EQ(again.code, 0) << again.err;
}

// How many certificates a PEM file holds.
int CertsIn(const std::string& path) {
  const std::string text = Read(path);
  int n = 0;
  for (size_t at = text.find("BEGIN CERTIFICATE"); at != std::string::npos;
       at = text.find("BEGIN CERTIFICATE", at + 1))
    ++n;
  return n;
}
std::string SerialOf(const std::string& cert) {
  return Exec({"openssl", "x509", "-noout", "-serial", "-in", cert}).out;
}
// Whether `cert` chains to the first CA of `cas` alone.
bool SignedByFirst(const std::string& cas, const std::string& cert, const std::string& scratch) {
  const std::string text = Read(cas);
  const std::string end = "-----END CERTIFICATE-----";
  std::ofstream(scratch) << text.substr(0, text.find(end) + end.size()) << "\n";
  return Exec({"openssl", "verify", "-CAfile", scratch, cert}).code == 0;
}

// `swell rotate`: new certificates without downtime. A joined node renews its own when the head
// asks, while its session and the job it runs go on; a CA rollover trusts both CAs until every
// node holds a certificate of the new one, then only the new: a user's certificate of the old
// CA is refused, and the node, restarted, connects with what it renewed.
TEST_F(CliTest, RotationRenewsCertificatesWithoutDowntime) {
  std::string head;
  pid_t pid = UpWithAJoinedNode("far1", &head);
  ASSERT_NE(pid, 0) << Read(dir_ + "/far1.log");
  const std::string far = dir_ + "/far", ca = home_ + "/tls/ca.crt";
  const std::string node_tls = far + "/nodes/far1/tls";
  const int64_t job = SubmitOk({"-w", "far1", "--wrap", "sleep 300"});
  ASSERT_EQ(WaitFor(job, [](const nlohmann::json& j) { return j["state"] == "RUNNING"; })["state"],
            "RUNNING");
  auto until = [](const std::function<bool()>& done) {
    for (int i = 0; i < 1000 && !done(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return done();
  };

  // New certificates of the same CA: the head's at once, the node's when it is asked.
  const std::string node_serial = SerialOf(node_tls + "/node.crt");
  const std::string head_serial = SerialOf(home_ + "/tls/head.crt");
  auto leaves = Swell({"rotate"});
  ASSERT_EQ(leaves.code, 0) << leaves.err;
  EXPECT_NE(leaves.out.find("1 node(s) renew"), std::string::npos) << leaves.out;
  EXPECT_NE(SerialOf(home_ + "/tls/head.crt"), head_serial);
  EXPECT_TRUE(until([&] { return SerialOf(node_tls + "/node.crt") != node_serial; }))
      << Read(dir_ + "/far1.log");

  // A CA rollover: both trusted while the node renews with the new CA.
  const std::string mine = dir_ + "/my-tls";
  ASSERT_EQ(Swell({"cert", "--out", mine}).code, 0);
  auto over_tcp = [&] { return NodesOverTcp(head, mine); };
  // Issue times have a second's grain: the new CA's second comes after the user's.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto begun = Swell({"rotate", "--new-ca"});
  ASSERT_EQ(begun.code, 0) << begun.err;
  EXPECT_NE(begun.out.find("2 CA(s) trusted"), std::string::npos) << begun.out;
  EXPECT_EQ(CertsIn(ca), 2);
  EXPECT_NE(Swell({"rotate", "--new-ca"}).code, 0) << "one rollover at a time";
  EXPECT_TRUE(until([&] {
    return CertsIn(node_tls + "/ca.crt") == 2 &&
           SignedByFirst(ca, node_tls + "/node.crt", dir_ + "/new-ca.pem");
  })) << Read(dir_ + "/far1.log");
  EXPECT_EQ(over_tcp().code, 0) << "the old CA is still trusted";

  auto finished = Swell({"rotate", "--finish"});
  ASSERT_EQ(finished.code, 0) << finished.err;
  EXPECT_NE(finished.out.find("1 CA(s) trusted"), std::string::npos) << finished.out;
  EXPECT_EQ(CertsIn(ca), 1);
  EXPECT_TRUE(SignedByFirst(ca, home_ + "/tls/head.crt", dir_ + "/new-ca.pem"));
  EXPECT_NE(Swell({"rotate", "--finish"}).code, 0) << "no rollover is under way";
  auto old_user = over_tcp();
  EXPECT_NE(old_user.code, 0) << "a certificate of the old CA admitted: " << old_user.out;
  EXPECT_TRUE(until([&] { return CertsIn(node_tls + "/ca.crt") == 1; }))
      << Read(dir_ + "/far1.log");

  // No downtime: the job ran throughout on a node that never left.
  EXPECT_EQ(InfoJson(job)["job"]["state"], "RUNNING");
  EXPECT_EQ(Read(dir_ + "/far1.log").find("lost the head"), std::string::npos)
      << Read(dir_ + "/far1.log");
  EXPECT_EQ(Swell({"cancel", std::to_string(job)}).code, 0);

  // What the node renewed is what it connects with after a restart; a user's new certificate
  // is of the new CA.
  kill(pid, SIGTERM);
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  Spawn({SWELL_BIN, "node", "--home", far, "--name", "far1", "--head", head, "--cpus", "1"},
        dir_ + "/far1-again.log", &leftovers_);
  ASSERT_TRUE(NodeComesUp("far1")) << Read(dir_ + "/far1-again.log");
  auto run = Swell({"run", "-w", "far1", "--", "echo", "after the rollover"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "after the rollover\n");
  ASSERT_EQ(Swell({"cert", "--out", mine}).code, 0);
  auto new_user = over_tcp();
  EXPECT_EQ(new_user.code, 0) << new_user.err;
}

}  // namespace
}  // namespace swell::testing_cli
