// The transport adapter against a fake HeadApi: who the caller is, and who is refused.

#include <gtest/gtest.h>
#include <unistd.h>

#include "rpc/api.h"
#include "rpc/client.h"
#include "testing/scratch.h"

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
  Status NodeSession(const Caller&, Stream<pb::NodeMessage, pb::HeadMessage>& s) override {
    pb::NodeMessage in;
    while (s.Read(&in)) {
      pb::HeadMessage out;
      out.set_ack(in.reports().seq());
      if (!s.Write(out)) break;
    }
    return Status::Ok();
  }
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
  pb::HeadMessage out;
  EXPECT_FALSE((*link)->Read(&out)) << "a node session without the secret was served";

  auto ok = Local(std::string(64, 's'))->OpenNodeSession();
  ASSERT_TRUE(ok.ok());
  m.mutable_reports()->set_seq(7);
  ASSERT_TRUE((*ok)->Write(m));
  ASSERT_TRUE((*ok)->Read(&out));
  EXPECT_EQ(out.ack(), 7u);
  (*ok)->Close();
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

}  // namespace
}  // namespace swell::rpc
