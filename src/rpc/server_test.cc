// The transport adapter against a fake HeadApi: who the caller is, and who is refused.

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "common/files.h"
#include "common/process.h"
#include "rpc/api.h"
#include "rpc/client.h"
#include "testing/scratch.h"
#include "tls/certs.h"

namespace swell::rpc {
namespace {

class FakeApi : public HeadApi {
 public:
  Result<pb::SubmitReply> Submit(const Caller& who, const pb::SubmitRequest& req) override {
    last = who;
    if (req.spec().name() == "bad") return InvalidArgument("bad name");
    pb::SubmitReply r;
    r.set_job_id(42);
    return r;
  }
  Result<pb::QueueReply> Queue(const Caller&, const pb::QueueRequest&) override {
    return pb::QueueReply();
  }
  Result<pb::InfoReply> Info(const Caller&, const pb::InfoRequest&) override {
    return NotFound("no such job");
  }
  Result<pb::CancelReply> Cancel(const Caller&, const pb::CancelRequest&) override {
    return PermissionDenied("not yours");
  }
  Result<pb::NodesReply> Nodes(const Caller&, const pb::NodesRequest&) override {
    return pb::NodesReply();
  }
  Result<pb::StatsReply> Stats(const Caller&, const pb::StatsRequest&) override {
    return pb::StatsReply();
  }
  Result<pb::OverviewReply> Overview(const Caller&, const pb::OverviewRequest&) override {
    return pb::OverviewReply();
  }
  Status Wait(const Caller&, const pb::WaitRequest&, Writer<pb::WaitEvent>& out) override {
    for (int i = 1; i <= 3; ++i) {
      pb::WaitEvent ev;
      ev.set_total(3);
      ev.set_done(i);
      if (!out.Write(ev)) return Unavailable("gone");
    }
    return Status::Ok();
  }
  Status Exec(const Caller&, const pb::ExecRequest&, Writer<pb::ExecEvent>&) override {
    return InvalidArgument("no steps here");
  }
  // Acks each report by its seq; report 99 has this side close the session.
  std::unique_ptr<SessionIn> OpenNodeSession(const Caller&,
                                             std::shared_ptr<SessionOut> out) override {
    class Echo final : public SessionIn {
     public:
      Echo(std::shared_ptr<SessionOut> out, std::atomic<int>* ended)
          : out_(std::move(out)), ended_(ended) {}
      bool OnMessage(pb::NodeMessage& in) override {
        if (in.reports().seq() == 99) {
          out_->Close();
          return true;
        }
        pb::HeadMessage ack;
        ack.set_ack(in.reports().seq());
        out_->Send(ack);
        return true;
      }
      void OnEnd() override { ++*ended_; }

     private:
      std::shared_ptr<SessionOut> out_;
      std::atomic<int>* ended_;
    };
    return std::make_unique<Echo>(std::move(out), &sessions_ended);
  }
  std::atomic<int> sessions_ended{0};
  Caller last;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.unix_path = dir_ + "/head.sock";
    o.tcp_address = "127.0.0.1:0";
    o.secret = std::string(64, 's');
    auto s = StartServer(&api_, o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    ASSERT_GT(server_->tcp_port(), 0);
  }
  void TearDown() override { server_->Shutdown(); }
  // How many node sessions the head's side has heard end, once that is `n` or 5 s passed.
  int WaitSessionsEnded(int n) {
    for (int i = 0; i < 500 && api_.sessions_ended < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return api_.sessions_ended.load();
  }
  std::unique_ptr<HeadClient> Local(const std::string& secret = "") {
    return HeadClient::Create({"unix:" + dir_ + "/head.sock", secret});
  }
  std::unique_ptr<HeadClient> Tcp(const std::string& secret) {
    return HeadClient::Create({"127.0.0.1:" + std::to_string(server_->tcp_port()), secret});
  }
  FakeApi api_;
  swell::testing::TempDir tmp_;
  const std::string dir_ = tmp_.path();
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, LocalCallersAreNamedByTheKernel) {
  auto r = Local()->Submit({});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->job_id(), 42);
  EXPECT_TRUE(api_.last.local);
  EXPECT_EQ(api_.last.uid, getuid());
  EXPECT_EQ(api_.last.gid, getgid());
  EXPECT_EQ(api_.last.pid, getpid());
  EXPECT_FALSE(api_.last.has_secret);
}

TEST_F(ServerTest, ErrorsKeepTheirCodeAndMessage) {
  pb::SubmitRequest bad;
  bad.mutable_spec()->set_name("bad");
  auto r = Local()->Submit(bad);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "bad name");
  EXPECT_EQ(Local()->Info({}).status().code(), Code::kNotFound);
  EXPECT_EQ(Local()->Cancel({}).status().code(), Code::kPermissionDenied);
}

TEST_F(ServerTest, TcpNeedsTheSecret) {
  auto none = Tcp("")->Submit({});
  EXPECT_EQ(none.status().code(), Code::kPermissionDenied);
  auto wrong = Tcp(std::string(64, 'x'))->Submit({});
  EXPECT_EQ(wrong.status().code(), Code::kPermissionDenied);
  auto right = Tcp(std::string(64, 's'))->Submit({});
  ASSERT_TRUE(right.ok()) << right.status().ToString();
  EXPECT_FALSE(api_.last.local);
  EXPECT_TRUE(api_.last.has_secret);
  EXPECT_EQ(api_.last.uid, getuid());
}

TEST_F(ServerTest, NodeSessionsNeedTheSecret) {
  auto link = Local()->OpenNodeSession();
  ASSERT_TRUE(link.ok());
  pb::NodeMessage m;
  m.set_heartbeat(true);
  (*link)->Write(m);
  // Refused, and told why as a refused registration (a node daemon stops on it).
  pb::HeadMessage out;
  ASSERT_TRUE((*link)->Read(&out));
  EXPECT_FALSE(out.registered().ok());
  EXPECT_NE(out.registered().message().find("secret"), std::string::npos)
      << out.registered().message();
  EXPECT_FALSE((*link)->Read(&out)) << "a node session without the secret was served";

  auto ok = Local(std::string(64, 's'))->OpenNodeSession();
  ASSERT_TRUE(ok.ok());
  m.mutable_reports()->set_seq(7);
  ASSERT_TRUE((*ok)->Write(m));
  ASSERT_TRUE((*ok)->Read(&out));
  EXPECT_EQ(out.ack(), 7u);
  (*ok)->Close();
}

// A node stopping while its session opens: Close from another thread ends a Read that waits
// on a session that has sent nothing yet.
TEST_F(ServerTest, ClosingASessionThatSentNothingEndsItsRead) {
  auto link = Local(std::string(64, 's'))->OpenNodeSession();
  ASSERT_TRUE(link.ok());
  std::promise<bool> read;
  std::thread reader([&] {
    pb::HeadMessage out;
    read.set_value((*link)->Read(&out));
  });
  auto got = read.get_future();
  EXPECT_EQ(got.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  (*link)->Close();
  EXPECT_FALSE(got.get());
  reader.join();
}

// Either side may end a session, and the head's side hears of its end once.
TEST_F(ServerTest, ASessionEndsFromEitherSide) {
  auto link = Local(std::string(64, 's'))->OpenNodeSession();
  ASSERT_TRUE(link.ok());
  pb::NodeMessage m;
  pb::HeadMessage out;
  for (uint64_t seq = 1; seq <= 50; ++seq) {
    m.mutable_reports()->set_seq(seq);
    ASSERT_TRUE((*link)->Write(m));
  }
  for (uint64_t seq = 1; seq <= 50; ++seq) {
    ASSERT_TRUE((*link)->Read(&out));
    EXPECT_EQ(out.ack(), seq);  // in order
  }
  m.mutable_reports()->set_seq(99);  // the head closes it
  ASSERT_TRUE((*link)->Write(m));
  EXPECT_FALSE((*link)->Read(&out));
  EXPECT_EQ(WaitSessionsEnded(1), 1);

  auto second = Local(std::string(64, 's'))->OpenNodeSession();
  ASSERT_TRUE(second.ok());
  m.mutable_reports()->set_seq(5);
  ASSERT_TRUE((*second)->Write(m));
  ASSERT_TRUE((*second)->Read(&out));
  (*second)->Close();  // the node goes
  EXPECT_EQ(WaitSessionsEnded(2), 2);
}

// What a callback session (StartNodeSession) hands on: the acks in order, and its ends.
struct Acks final : Receiver<pb::HeadMessage> {
  bool OnMessage(pb::HeadMessage& m) override {
    std::lock_guard<std::mutex> l(mu);
    acks.push_back(m.ack());
    cv.notify_all();
    return true;
  }
  void OnEnd() override {
    std::lock_guard<std::mutex> l(mu);
    ++ends;
    cv.notify_all();
  }
  bool WaitFor(size_t n_acks, int n_ends) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(5),
                       [&] { return acks.size() >= n_acks && ends >= n_ends; });
  }
  std::mutex mu;
  std::condition_variable cv;
  std::vector<uint64_t> acks;
  int ends = 0;
};

// The same over the callback session (StartNodeSession, what bench/head_load plays 1,000
// nodes with): messages queued by Send arrive in order, and either side's end is heard once
// on each side.
TEST_F(ServerTest, ACallbackSessionDeliversInOrderAndEndsFromEitherSide) {
  auto client = Local(std::string(64, 's'));
  Acks first;
  auto session = client->StartNodeSession(&first);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  pb::NodeMessage m;
  std::vector<uint64_t> sent;
  for (uint64_t seq = 100; seq < 300; ++seq) {  // not 99
    m.mutable_reports()->set_seq(seq);
    (*session)->Send(m);
    sent.push_back(seq);
  }
  ASSERT_TRUE(first.WaitFor(200, 0));
  EXPECT_EQ(first.acks, sent);
  m.mutable_reports()->set_seq(99);  // the head closes it
  (*session)->Send(m);
  ASSERT_TRUE(first.WaitFor(200, 1));
  session->reset();
  EXPECT_EQ(first.ends, 1);
  EXPECT_EQ(WaitSessionsEnded(1), 1);

  Acks second;
  auto other = client->StartNodeSession(&second);
  ASSERT_TRUE(other.ok());
  m.mutable_reports()->set_seq(5);
  (*other)->Send(m);
  ASSERT_TRUE(second.WaitFor(1, 0));
  other->reset();  // the node goes: its end is heard on both sides
  EXPECT_EQ(second.ends, 1);
  EXPECT_EQ(WaitSessionsEnded(2), 2);
}

// The head going away ends a callback session: its end is heard once, and closing it after
// is harmless.
TEST_F(ServerTest, ACallbackSessionEndsWhenTheHeadGoes) {
  auto client = Local(std::string(64, 's'));
  Acks acks;
  auto session = client->StartNodeSession(&acks);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  pb::NodeMessage m;
  m.mutable_reports()->set_seq(7);
  (*session)->Send(m);
  ASSERT_TRUE(acks.WaitFor(1, 0));
  server_->Shutdown();
  ASSERT_TRUE(acks.WaitFor(1, 1));
  (*session)->Send(m);  // after the end: dropped
  (*session)->Close();
  session->reset();
  EXPECT_EQ(acks.ends, 1);
  EXPECT_EQ(acks.acks, std::vector<uint64_t>{7});
}

TEST_F(ServerTest, WaitStreamsUntilDone) {
  std::vector<int64_t> done;
  Status s = Local()->Wait({}, [&](const pb::WaitEvent& ev) {
    done.push_back(ev.done());
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(done, (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(ServerTest, NoServerIsUnavailable) {
  auto c = HeadClient::Create({"unix:" + dir_ + "/nobody-here.sock", ""});
  c->set_timeout(std::chrono::seconds(2));
  EXPECT_EQ(c->Nodes({}).status().code(), Code::kUnavailable);
}

// TCP with TLS: the cluster's CA, the head's certificate, and callers named by theirs.
class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Time now = SystemClock().Now();
    auto ca_key = tls::NewKey();
    ASSERT_TRUE(ca_key.ok());
    auto ca = tls::MakeCa(*ca_key, "test CA", now, 1);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_key_ = *ca_key;
    ca_ = Write("ca.crt", *ca);
    server_files_ = Issue("head", true, *ca, *ca_key);
    ServerOptions o;
    o.unix_path = dir_ + "/head.sock";
    o.tcp_address = "127.0.0.1:0";
    o.secret = std::string(64, 's');
    o.tls = server_files_;
    auto s = StartServer(&api_, o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    ASSERT_GT(server_->tcp_port(), 0);
  }
  void TearDown() override { server_->Shutdown(); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomic(path, text, 0600).ok());
    return path;
  }
  // Files of a certificate for `cn` (the head's for kHeadTlsName) issued by the given CA.
  TlsFiles Issue(const std::string& cn, bool server, const std::string& ca,
                 const std::string& ca_key) {
    auto key = tls::NewKey();
    EXPECT_TRUE(key.ok());
    tls::CertRequest r;
    r.public_key = *tls::PublicKeyOf(*key);
    r.common_name = cn;
    r.server = server;
    r.client = !server;
    if (server) r.dns = {kHeadTlsName};
    auto cert = tls::Issue(ca, ca_key, r, SystemClock().Now());
    EXPECT_TRUE(cert.ok()) << cert.status().ToString();
    std::string base = cn.substr(cn.find(':') + 1) + std::to_string(++files_);
    return {ca_, Write(base + ".crt", *cert), Write(base + ".key", *key)};
  }
  std::unique_ptr<HeadClient> Tcp(const TlsFiles& tls) {
    auto c = HeadClient::Create({"127.0.0.1:" + std::to_string(server_->tcp_port()), "", tls});
    c->set_timeout(std::chrono::seconds(5));
    return c;
  }
  std::string Ca() { return *ReadFile(ca_); }
  static std::string Me() {
    struct passwd* pw = getpwuid(getuid());
    return pw ? pw->pw_name : "";
  }

  FakeApi api_;
  swell::testing::TempDir tmp_;
  const std::string dir_ = tmp_.path();
  std::string ca_, ca_key_;
  TlsFiles server_files_;
  int files_ = 0;
  std::unique_ptr<Server> server_;
};

TEST_F(TlsServerTest, AUsersCertificateActsAsThatUser) {
  auto r = Tcp(Issue("user:" + Me(), false, Ca(), ca_key_))->Submit({});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(api_.last.local);
  EXPECT_FALSE(api_.last.has_secret);
  EXPECT_EQ(api_.last.uid, getuid());
  EXPECT_EQ(api_.last.user, Me());
  // The secret alone is no key on a TLS port.
  auto c = HeadClient::Create(
      {"127.0.0.1:" + std::to_string(server_->tcp_port()), std::string(64, 's'), {ca_, "", ""}});
  EXPECT_EQ(c->Submit({}).status().code(), Code::kPermissionDenied);
  auto ghost = Tcp(Issue("user:no-such-user-here", false, Ca(), ca_key_))->Submit({});
  EXPECT_EQ(ghost.status().code(), Code::kPermissionDenied) << ghost.status().ToString();
}

TEST_F(TlsServerTest, ANodesCertificateOpensItsSessionAndNothingElse) {
  auto node = Tcp(Issue("node:n1", false, Ca(), ca_key_));
  auto r = node->Submit({});
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied);
  EXPECT_NE(r.status().message().find("does not act for users"), std::string::npos)
      << r.status().ToString();
  auto link = node->OpenNodeSession();
  ASSERT_TRUE(link.ok());
  pb::NodeMessage m;
  m.mutable_reports()->set_seq(9);
  ASSERT_TRUE((*link)->Write(m));
  pb::HeadMessage out;
  ASSERT_TRUE((*link)->Read(&out));
  EXPECT_EQ(out.ack(), 9u);
  (*link)->Close();
}

TEST_F(TlsServerTest, NoCertificateAForeignOneOrPlaintextGetsNothing) {
  auto anonymous = Tcp({ca_, "", ""})->Submit({});
  EXPECT_EQ(anonymous.status().code(), Code::kPermissionDenied) << anonymous.status().ToString();
  // A certificate from another CA fails the handshake.
  auto other_key = tls::NewKey();
  auto other = tls::MakeCa(*other_key, "other CA", SystemClock().Now(), 1);
  ASSERT_TRUE(other.ok());
  auto foreign = Tcp(Issue("user:" + Me(), false, *other, *other_key))->Submit({});
  EXPECT_EQ(foreign.status().code(), Code::kUnavailable) << foreign.status().ToString();
  // Plain HTTP/2 (gRPC without TLS) is not answered.
  auto plain = HeadClient::Create({"127.0.0.1:" + std::to_string(server_->tcp_port()), ""});
  plain->set_timeout(std::chrono::seconds(3));
  EXPECT_EQ(plain->Submit({}).status().code(), Code::kUnavailable);
  EXPECT_EQ(api_.last.peer, "");  // nothing reached the head
}

// What a TLS client sees, with OpenSSL's own: TLS 1.3, the head's certificate.
TEST_F(TlsServerTest, OpensslNegotiatesTls13) {
  auto r = RunCommand(
      {"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(server_->tcp_port()),
       "-tls1_3", "-CAfile", ca_, "-verify_return_error", "-brief"},
      {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string all = r->out + r->err;
  EXPECT_NE(all.find("Protocol version: TLSv1.3"), std::string::npos) << all;
  EXPECT_NE(all.find("Verification: OK"), std::string::npos) << all;
}

}  // namespace
}  // namespace swell::rpc
