// The gRPC server adapter. This is one of the few files that include gRPC headers.
//
// We accept connections ourselves instead of letting gRPC listen, for one reason: the kernel
// tells the acceptor who is on the other end of a unix socket (SO_PEERCRED), and gRPC has no
// way to pass that to a handler. Each accepted socket is handed to gRPC with
// AddInsecureChannelFromFd; the handler finds its connection's identity by the "fd:N" peer
// name gRPC gives such channels. An entry is written before its fd is handed over and
// overwritten when the kernel reuses the number for a new connection, so a handler reads it
// first thing, while its own connection (and so its fd) is still open.

#include <absl/synchronization/mutex.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/server_posix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <iterator>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/log.h"
#include "common/secret.h"
#include "rpc/api.h"
#include "rpc/session_pump.h"
#include "rpc/swell.grpc.pb.h"
#include "tls/certs.h"

namespace swell::rpc {
namespace {

constexpr char kSecretKey[] = "x-swell-secret";
constexpr char kUidKey[] = "x-swell-uid";
constexpr char kGidKey[] = "x-swell-gid";
constexpr char kUserKey[] = "x-swell-user";

grpc::Status ToGrpc(const Status& s) {
  using grpc::StatusCode;
  if (s.ok()) return grpc::Status::OK;
  // Indexed by Code.
  static constexpr StatusCode kCodes[] = {StatusCode::OK,
                                          StatusCode::INVALID_ARGUMENT,
                                          StatusCode::NOT_FOUND,
                                          StatusCode::UNAVAILABLE,
                                          StatusCode::DEADLINE_EXCEEDED,
                                          StatusCode::RESOURCE_EXHAUSTED,
                                          StatusCode::PERMISSION_DENIED,
                                          StatusCode::INTERNAL};
  static_assert(std::size(kCodes) == static_cast<size_t>(Code::kInternal) + 1);
  auto i = static_cast<size_t>(s.code());
  return grpc::Status(i < std::size(kCodes) ? kCodes[i] : StatusCode::UNKNOWN, s.message());
}

std::string UserName(uid_t uid) {
  struct passwd pw, *out = nullptr;
  char buf[4096];
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &out) == 0 && out != nullptr) return out->pw_name;
  return std::to_string(uid);
}

std::string Metadata(const grpc::ServerContextBase& ctx, const char* key) {
  auto it = ctx.client_metadata().find(key);
  if (it == ctx.client_metadata().end()) return "";
  return std::string(it->second.data(), it->second.size());
}

template <typename Out>
class GrpcWriter final : public Writer<Out> {
 public:
  GrpcWriter(grpc::ServerContext* ctx, grpc::ServerWriter<Out>* w) : ctx_(ctx), w_(w) {}
  bool Write(const Out& msg) override { return w_->Write(msg); }
  bool Cancelled() const override { return ctx_->IsCancelled(); }

 private:
  grpc::ServerContext* ctx_;
  grpc::ServerWriter<Out>* w_;
};

// A node session on gRPC's callback API: each message is handed to the head on the gRPC thread
// that read it, and what the head sends is written from a queue, one write at a time. (With a
// thread blocked on each session, handing every heartbeat to that thread was half of what
// 1,000 nodes cost the head.)
class NodeReactor final : public grpc::ServerBidiReactor<pb::NodeMessage, pb::HeadMessage> {
 public:
  // A refused session: told why as a refused registration (the node daemon reports it and
  // stops: a revoked certificate would otherwise have it reconnect for ever, saying nothing).
  explicit NodeReactor(const Status& refusal) {
    refused_.mutable_registered()->set_ok(false);
    refused_.mutable_registered()->set_message(std::string(refusal.message()));
    StartWriteAndFinish(&refused_, grpc::WriteOptions(), ToGrpc(refusal));
  }
  NodeReactor(grpc::CallbackServerContext* ctx, HeadApi* api, const Caller& who)
      : out_(std::make_shared<Out>(this, ctx)) {
    in_ = api->OpenNodeSession(who, out_);
    StartRead(&msg_);
  }

  void OnReadDone(bool ok) override {
    if (Delivered(ok, in_.get(), &msg_))
      StartRead(&msg_);
    else
      out_->Close();
  }
  void OnWriteDone(bool ok) override { out_->WriteDone(ok); }
  void OnDone() override {
    if (out_) out_->Detach();
    delete this;
  }

 private:
  // What the head holds of the session; it may outlive the reactor (Send and Close are then
  // dropped). Every gRPC operation on the call is started under its lock, which is recursive:
  // gRPC may run a reaction (OnWriteDone after StartWrite, say) on the thread that started it,
  // before the start returns. The reactor exists while `reactor_` is set: Finish is called only
  // with no write under way, so OnDone cannot come between a write's start and its return.
  class Out final : public SessionOut {
   public:
    Out(NodeReactor* reactor, grpc::CallbackServerContext* ctx) : reactor_(reactor), ctx_(ctx) {}

    void Send(pb::HeadMessage m) override {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      if (reactor_ == nullptr || ending_) return;
      if (const auto* next = queue_.Push(std::move(m))) reactor_->StartWrite(next);
    }
    // The session is over (the head's word, or the node's reads ended): what is queued and not
    // written is dropped, a write under way is cancelled, and the call finishes once no write
    // is under way.
    void Close() override {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      if (reactor_ == nullptr || ending_) return;
      ending_ = true;
      queue_.DropQueued();
      if (queue_.writing())
        ctx_->TryCancel();
      else
        Finish();
    }
    void WriteDone(bool ok) {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      if (!ok) ending_ = true;
      if (const auto* next = queue_.Done(!ending_)) {
        reactor_->StartWrite(next);
        return;
      }
      if (ending_) Finish();
    }
    void Detach() {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      reactor_ = nullptr;
      queue_.DropQueued();  // none is under way once the call is done
    }

   private:
    void Finish() {  // with mu_ held, no write under way
      if (finished_) return;
      finished_ = true;
      reactor_->Finish(grpc::Status::OK);
    }

    std::recursive_mutex mu_;
    NodeReactor* reactor_;               // GUARDED_BY(mu_): null once the call is done
    grpc::CallbackServerContext* ctx_;   // valid while reactor_ is set
    WriteQueue<pb::HeadMessage> queue_;  // GUARDED_BY(mu_)
    bool ending_ = false;                // GUARDED_BY(mu_)
    bool finished_ = false;              // GUARDED_BY(mu_)
  };

  pb::HeadMessage refused_;
  std::shared_ptr<Out> out_;
  std::unique_ptr<SessionIn> in_;
  pb::NodeMessage msg_;
};

class ServerImpl final : public Server,
                         public pb::Head::WithCallbackMethod_NodeSession<pb::Head::Service> {
 public:
  ServerImpl(HeadApi* api, ServerOptions options) : api_(api), options_(std::move(options)) {}
  ~ServerImpl() override { Shutdown(); }

  Status Start() {
    SWELL_RETURN_IF_ERROR(ListenUnix());
    bool tls = !options_.tcp_address.empty() && options_.tls.enabled();
    if (!options_.tcp_address.empty() && !tls) SWELL_RETURN_IF_ERROR(ListenTcp());
    if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) return Internal("pipe2 failed");
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);  // as in client.cc
    grpc::ServerBuilder builder;
    builder.RegisterService(this);
    builder.SetMaxReceiveMessageSize(64 << 20);
    // No bandwidth-delay probing: it answers each burst of a session's data (a heartbeat) with
    // a ping, and halved the head's cpu with 1,000 nodes (docs/BENCHMARKS.md). A fixed 1 MiB
    // window instead keeps a step's output streaming over a WAN (20 MB/s at 50 ms).
    builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1 << 20);
    if (tls) {
      // gRPC listens itself here: a TLS caller is named by its certificate, not its socket.
      SWELL_ASSIGN_OR_RETURN(auto host_port, ListenHostPort(options_.tcp_address));
      builder.AddListeningPort(host_port.first + ":" + std::to_string(host_port.second),
                               TlsCredentials(options_.tls), &tcp_port_);
    }
    server_ = builder.BuildAndStart();
    if (!server_ || (tls && tcp_port_ == 0))
      return Unavailable("cannot serve on " + options_.tcp_address + " (in use, or the TLS files " +
                         options_.tls.cert + " and " + options_.tls.key + " are unusable)");
    acceptor_ = std::thread([this] { AcceptLoop(); });
    return Status::Ok();
  }

  int tcp_port() const override { return tcp_port_; }

  void Shutdown() override {
    std::call_once(shutdown_once_, [this] {
      if (acceptor_.joinable()) {
        char c = 0;
        (void)!write(wake_[1], &c, 1);
        acceptor_.join();
      }
      if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
      if (unix_fd_ >= 0) close(unix_fd_);
      if (tcp_fd_ >= 0) close(tcp_fd_);
      if (wake_[0] >= 0) close(wake_[0]), close(wake_[1]);
      if (!options_.unix_path.empty() && unix_fd_ >= 0) unlink(options_.unix_path.c_str());
    });
  }

  // ---- gRPC handlers ----
  // Each unary RPC answers with what the HeadApi method of the same name returns.
#define SWELL_UNARY_HANDLER(Method)                                          \
  grpc::Status Method(grpc::ServerContext* c, const pb::Method##Request* in, \
                      pb::Method##Reply* out) override {                     \
    return Unary(c, &HeadApi::Method, *in, out);                             \
  }
  SWELL_UNARY_HANDLER(Submit)
  SWELL_UNARY_HANDLER(Queue)
  SWELL_UNARY_HANDLER(Info)
  SWELL_UNARY_HANDLER(Cancel)
  SWELL_UNARY_HANDLER(Nodes)
  SWELL_UNARY_HANDLER(Stats)
  SWELL_UNARY_HANDLER(Overview)
  SWELL_UNARY_HANDLER(History)
  SWELL_UNARY_HANDLER(Control)
  SWELL_UNARY_HANDLER(Token)
  SWELL_UNARY_HANDLER(UserCert)
  SWELL_UNARY_HANDLER(Revoke)
  SWELL_UNARY_HANDLER(Rotate)
#undef SWELL_UNARY_HANDLER

  // A node's call with its certificate (IdentifyUser refuses those); HeadApi::Renew refuses
  // any other caller.
  grpc::Status Renew(grpc::ServerContext* c, const pb::RenewRequest* in,
                     pb::RenewReply* out) override {
    auto who = Identify(*c);
    if (!who.ok()) return ToGrpc(who.status());
    return Answer(*who, &HeadApi::Renew, *in, out);
  }

  // The one call a caller without a certificate or the secret may make over TCP: the token
  // in the request is its credential.
  grpc::Status Join(grpc::ServerContext* c, const pb::JoinRequest* in,
                    pb::JoinReply* out) override {
    Caller who;
    who.peer = c->peer();
    return Answer(who, &HeadApi::Join, *in, out);
  }

  grpc::Status Wait(grpc::ServerContext* c, const pb::WaitRequest* in,
                    grpc::ServerWriter<pb::WaitEvent>* w) override {
    return ServerStreaming(c, &HeadApi::Wait, *in, w);
  }
  grpc::Status Exec(grpc::ServerContext* c, const pb::ExecRequest* in,
                    grpc::ServerWriter<pb::ExecEvent>* w) override {
    return ServerStreaming(c, &HeadApi::Exec, *in, w);
  }
  grpc::ServerBidiReactor<pb::NodeMessage, pb::HeadMessage>* NodeSession(
      grpc::CallbackServerContext* c) override {
    auto who = Identify(*c);
    if (who.ok() && !who->has_secret && who->node.empty())
      who = PermissionDenied("a node session needs the cluster secret or a node's certificate");
    if (!who.ok()) return new NodeReactor(who.status());
    return new NodeReactor(c, api_, *who);
  }

 private:
  // Identifies the caller and answers with the reply of `method`, or its error.
  template <typename Request, typename Reply>
  grpc::Status Unary(grpc::ServerContext* c,
                     Result<Reply> (HeadApi::*method)(const Caller&, const Request&),
                     const Request& in, Reply* out) {
    auto who = IdentifyUser(*c);
    if (!who.ok()) return ToGrpc(who.status());
    return Answer(*who, method, in, out);
  }

  // Answers with the reply of `method` for `who`, or its error.
  template <typename Request, typename Reply>
  grpc::Status Answer(const Caller& who,
                      Result<Reply> (HeadApi::*method)(const Caller&, const Request&),
                      const Request& in, Reply* out) {
    auto r = (api_->*method)(who, in);
    if (!r.ok()) return ToGrpc(r.status());
    *out = std::move(r).value();
    return grpc::Status::OK;
  }

  // Identifies the caller and lets `method` write its events to the call until it returns.
  template <typename Request, typename Event>
  grpc::Status ServerStreaming(grpc::ServerContext* c,
                               Status (HeadApi::*method)(const Caller&, const Request&,
                                                         Writer<Event>&),
                               const Request& in, grpc::ServerWriter<Event>* w) {
    auto who = IdentifyUser(*c);
    if (!who.ok()) return ToGrpc(who.status());
    GrpcWriter<Event> out(c, w);
    return ToGrpc((api_->*method)(*who, in, out));
  }

  // A caller of the users' API: a node's certificate admits node sessions only.
  Result<Caller> IdentifyUser(const grpc::ServerContextBase& c) {
    auto who = Identify(c);
    if (who.ok() && !who->node.empty())
      return PermissionDenied("node " + who->node + "'s certificate does not act for users");
    return who;
  }

  Result<Caller> Identify(const grpc::ServerContextBase& c) {
    std::string peer = c.peer();
    if (auto auth = c.auth_context(); auth && auth->IsPeerAuthenticated()) {
      SWELL_ASSIGN_OR_RETURN(auto who, ByCertificate(*auth, peer));
      SWELL_RETURN_IF_ERROR(api_->Admit(who));
      return who;
    }
    if (peer.rfind("fd:", 0) != 0 && options_.tls.enabled())
      return PermissionDenied(
          "a TLS caller needs a certificate of the cluster's CA (docs/security.md)");
    Caller who;
    bool known = false;
    if (peer.rfind("fd:", 0) == 0) {
      int fd = std::atoi(peer.c_str() + 3);
      std::lock_guard<std::mutex> lock(mu_);
      auto it = peers_.find(fd);
      if (it != peers_.end()) who = it->second, known = true;
    }
    if (!known) return PermissionDenied("unknown connection " + peer);
    std::string secret = Metadata(c, kSecretKey);
    who.has_secret = !secret.empty() && SecretEquals(secret, options_.secret);
    if (!who.local) {
      if (!who.has_secret) return PermissionDenied("TCP callers must present the cluster secret");
      // An authenticated remote client names its user; it holds the cluster secret, so it is
      // trusted as an administrator would be.
      std::string uid = Metadata(c, kUidKey);
      std::string gid = Metadata(c, kGidKey);
      who.uid = uid.empty() ? 0 : static_cast<uid_t>(std::strtoul(uid.c_str(), nullptr, 10));
      who.gid = gid.empty() ? 0 : static_cast<gid_t>(std::strtoul(gid.c_str(), nullptr, 10));
      who.user = Metadata(c, kUserKey);
      if (who.user.empty()) who.user = UserName(who.uid);
    }
    return who;
  }

  // A TLS caller: "node:<name>" is that node; "user:<name>" that user of this host.
  static Result<Caller> ByCertificate(const grpc::AuthContext& auth, const std::string& peer) {
    auto first = [&](const char* property) {
      auto v = auth.FindPropertyValues(property);
      return v.empty() ? std::string() : std::string(v.front().data(), v.front().size());
    };
    std::string cn = first("x509_common_name");
    Caller who;
    who.peer = "tls:" + cn + "@" + peer;
    auto cert = tls::Inspect(first("x509_pem_cert"));
    if (!cert.ok()) return PermissionDenied("an unreadable certificate: " + cert.status().ToString());
    who.cert_issued_ms = ToMillis(cert->not_before + tls::kBackdate);
    if (cn.rfind("node:", 0) == 0 && cn.size() > 5) {
      who.node = cn.substr(5);
      return who;
    }
    if (cn.rfind("user:", 0) == 0 && cn.size() > 5) {
      who.user = cn.substr(5);
      struct passwd pw, *out = nullptr;
      char buf[4096];
      if (getpwnam_r(who.user.c_str(), &pw, buf, sizeof buf, &out) != 0 || out == nullptr)
        return PermissionDenied("user " + who.user + " of this certificate has no account here");
      who.uid = out->pw_uid;
      who.gid = out->pw_gid;
      return who;
    }
    return PermissionDenied("certificate '" + cn + "' names neither a node nor a user");
  }

  // "host:port" to listen on as (host, port); an empty host or "*" is every address.
  static Result<std::pair<std::string, int>> ListenHostPort(const std::string& address) {
    auto colon = address.rfind(':');
    if (colon == std::string::npos) return InvalidArgument("bad address " + address);
    std::string host = address.substr(0, colon);
    if (host.empty() || host == "*") host = "0.0.0.0";
    return std::make_pair(host, std::atoi(address.c_str() + colon + 1));
  }

  // TLS with the files watched (a rotation takes effect without a restart); a client's
  // certificate is asked for and, when given, must chain to the CA (none: only refusals).
  static std::shared_ptr<grpc::ServerCredentials> TlsCredentials(const TlsFiles& f) {
    auto files = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        f.key, f.cert, f.ca, /*refresh_interval_sec=*/5);
    grpc::experimental::TlsServerCredentialsOptions o(files);
    o.watch_root_certs();
    o.watch_identity_key_cert_pairs();
    o.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
    return grpc::experimental::TlsServerCredentials(o);
  }

  Status ListenUnix() {
    unix_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (unix_fd_ < 0) return Internal(std::string("socket: ") + strerror(errno));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (options_.unix_path.size() >= sizeof(addr.sun_path))
      return InvalidArgument("socket path too long: " + options_.unix_path);
    std::strcpy(addr.sun_path, options_.unix_path.c_str());
    unlink(addr.sun_path);
    if (bind(unix_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      return Unavailable("bind " + options_.unix_path + ": " + strerror(errno));
    // Anyone may connect; the kernel tells us who they are.
    chmod(addr.sun_path, 0666);
    if (listen(unix_fd_, 512) != 0) return Internal(std::string("listen: ") + strerror(errno));
    return Status::Ok();
  }

  Status ListenTcp() {
    SWELL_ASSIGN_OR_RETURN(auto host_port, ListenHostPort(options_.tcp_address));
    auto [host, port] = host_port;
    tcp_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (tcp_fd_ < 0) return Internal(std::string("socket: ") + strerror(errno));
    int one = 1;
    setsockopt(tcp_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
      return InvalidArgument("bad IPv4 address " + host);
    if (bind(tcp_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      return Unavailable("bind " + options_.tcp_address + ": " + strerror(errno));
    if (listen(tcp_fd_, 512) != 0) return Internal(std::string("listen: ") + strerror(errno));
    socklen_t len = sizeof addr;
    getsockname(tcp_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    tcp_port_ = ntohs(addr.sin_port);
    return Status::Ok();
  }

  void AcceptLoop() {
    pollfd fds[3] = {{wake_[0], POLLIN, 0}, {unix_fd_, POLLIN, 0}, {tcp_fd_, POLLIN, 0}};
    int nfds = tcp_fd_ >= 0 ? 3 : 2;
    for (;;) {
      if (poll(fds, nfds, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[0].revents) return;
      for (int i = 1; i < nfds; ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        for (;;) {
          int fd = accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
          if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
              LogWarning("rpc: accept: %s", strerror(errno));
            break;
          }
          Caller who;
          if (i == 1) {
            ucred cred{};
            socklen_t len = sizeof cred;
            if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
              close(fd);
              continue;
            }
            who.uid = cred.uid, who.gid = cred.gid, who.pid = cred.pid, who.local = true;
            who.user = UserName(cred.uid);
            who.peer = "unix:pid=" + std::to_string(cred.pid);
          } else {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            who.peer = "tcp";
          }
          {
            std::lock_guard<std::mutex> lock(mu_);
            peers_[fd] = who;
          }
          grpc::AddInsecureChannelFromFd(server_.get(), fd);
        }
      }
    }
  }

  HeadApi* api_;
  ServerOptions options_;
  std::unique_ptr<grpc::Server> server_;
  std::thread acceptor_;
  std::once_flag shutdown_once_;
  int unix_fd_ = -1;
  int tcp_fd_ = -1;
  int tcp_port_ = 0;
  int wake_[2] = {-1, -1};
  std::mutex mu_;
  std::unordered_map<int, Caller> peers_;  // GUARDED_BY(mu_): fd -> who accepted it
};

}  // namespace

Result<std::unique_ptr<Server>> StartServer(HeadApi* api, const ServerOptions& options) {
  auto server = std::make_unique<ServerImpl>(api, options);
  SWELL_RETURN_IF_ERROR(server->Start());
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace swell::rpc
