// The gRPC client adapter. One of the few files that include gRPC headers.

#include "rpc/client.h"

#include <absl/synchronization/mutex.h>
#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <unistd.h>

#include "rpc/session_pump.h"
#include "rpc/swell.grpc.pb.h"

namespace swell::rpc {
namespace {

bool g_keep_runtime = false;  // SetUpForOneCommand() was called

Status FromGrpc(const grpc::Status& s) {
  using grpc::StatusCode;
  switch (s.error_code()) {
    case StatusCode::OK:
      return Status::Ok();
    case StatusCode::INVALID_ARGUMENT:
    case StatusCode::FAILED_PRECONDITION:
    case StatusCode::OUT_OF_RANGE:
      return InvalidArgument(s.error_message());
    case StatusCode::NOT_FOUND:
      return NotFound(s.error_message());
    case StatusCode::DEADLINE_EXCEEDED:
      return DeadlineExceeded(s.error_message());
    case StatusCode::RESOURCE_EXHAUSTED:
      return ResourceExhausted(s.error_message());
    case StatusCode::PERMISSION_DENIED:
    case StatusCode::UNAUTHENTICATED:
      return PermissionDenied(s.error_message());
    case StatusCode::UNAVAILABLE:
    case StatusCode::CANCELLED:
    case StatusCode::ABORTED:
      return Unavailable(s.error_message());
    default:
      return Internal(s.error_message());
  }
}

class GrpcNodeLink final : public NodeLink {
 public:
  GrpcNodeLink(std::shared_ptr<grpc::Channel> channel, const std::string& secret)
      : channel_(std::move(channel)), stub_(pb::Head::NewStub(channel_)) {
    ctx_.AddMetadata("x-swell-secret", secret);
    // The channel is connected (OpenNodeSession): a break now fails the call at once rather
    // than wait for a new connection. Corked: the call starts with the first Write (the
    // node's Register), so that creating it never blocks where Close could not reach it.
    ctx_.set_wait_for_ready(false);
    ctx_.set_initial_metadata_corked(true);
    rw_ = stub_->NodeSession(&ctx_);
  }
  ~GrpcNodeLink() override { ctx_.TryCancel(); }
  bool Read(pb::HeadMessage* msg) override { return rw_->Read(msg); }
  bool Write(const pb::NodeMessage& msg) override { return rw_->Write(msg); }
  void Cancel() override { Close(); }
  void Close() override {
    closed_ = true;
    ctx_.TryCancel();
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;  // outlives the call
  std::unique_ptr<pb::Head::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<pb::NodeMessage, pb::HeadMessage>> rw_;
  std::atomic<bool> closed_{false};
};

// A node session on gRPC's callback API (StartNodeSession). A hold keeps the call from ending
// until Close, so that Send may start a write from any thread until then; every operation
// starts under one recursive lock, as gRPC may run a reaction on the thread that starts it.
class NodeCall final : public grpc::ClientBidiReactor<pb::NodeMessage, pb::HeadMessage>,
                       public Sender<pb::NodeMessage> {
 public:
  NodeCall(pb::Head::Stub* stub, const std::string& secret, Receiver<pb::HeadMessage>* in)
      : in_(in) {
    ctx_.AddMetadata("x-swell-secret", secret);
    ctx_.set_wait_for_ready(false);  // the channel is connected: a break fails at once
    stub->async()->NodeSession(&ctx_, this);
    std::lock_guard<std::recursive_mutex> lock(mu_);
    AddHold();
    StartRead(&msg_);
    StartCall();
  }
  ~NodeCall() override {
    Close();
    std::unique_lock<std::recursive_mutex> lock(mu_);
    done_cv_.wait(lock, [this] { return done_; });
  }

  void Send(pb::NodeMessage m) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (closed_) return;
    if (const auto* next = queue_.Push(std::move(m))) StartWrite(next);
  }
  void Close() override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    queue_.DropQueued();
    ctx_.TryCancel();
    RemoveHold();
  }

  void OnReadDone(bool ok) override {
    if (Delivered(ok, in_, &msg_))
      StartRead(&msg_);
    else
      Close();
  }
  void OnWriteDone(bool ok) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (const auto* next = queue_.Done(ok && !closed_)) StartWrite(next);
  }
  void OnDone(const grpc::Status&) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    done_ = true;
    done_cv_.notify_all();
  }

 private:
  Receiver<pb::HeadMessage>* const in_;
  grpc::ClientContext ctx_;
  pb::HeadMessage msg_;  // the read under way
  std::recursive_mutex mu_;
  std::condition_variable_any done_cv_;
  WriteQueue<pb::NodeMessage> queue_;  // GUARDED_BY(mu_)
  bool closed_ = false;                // GUARDED_BY(mu_)
  bool done_ = false;                  // GUARDED_BY(mu_): OnDone ran
};

class GrpcHeadClient final : public HeadClient {
 public:
  explicit GrpcHeadClient(const Endpoint& e) : endpoint_(e) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(256 << 20);
    // Reconnect quickly after the head restarts. (Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: that
    // is also the connect timeout, and 100 ms made connections to a busy head fail with
    // "tcp handshaker shutdown".)
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
    if (e.tls.enabled() && e.address.rfind("unix:", 0) != 0) {
      // The files are watched (a rotated certificate is used from the next connection on);
      // the head is known by its certificate's name, whatever address reaches it.
      auto files = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          e.tls.key, e.tls.cert, e.tls.ca, /*refresh_interval_sec=*/60);
      grpc::experimental::TlsChannelCredentialsOptions o;
      o.set_certificate_provider(files);
      o.watch_root_certs();
      if (!e.tls.cert.empty()) o.watch_identity_key_cert_pairs();
      creds = grpc::experimental::TlsCredentials(o);
      args.SetSslTargetNameOverride(kHeadTlsName);
    }
    channel_ = grpc::CreateCustomChannel(e.address, creds, args);
    stub_ = pb::Head::NewStub(channel_);
  }

  // Each unary RPC is the stub's method of the same name, under the unary deadline.
#define SWELL_UNARY_CALL(Method)                                             \
  Result<pb::Method##Reply> Method(const pb::Method##Request& in) override { \
    return Call(in, &pb::Head::Stub::Method);                                \
  }
  SWELL_UNARY_CALL(Submit)
  SWELL_UNARY_CALL(Info)
  SWELL_UNARY_CALL(Cancel)
  SWELL_UNARY_CALL(Nodes)
  SWELL_UNARY_CALL(Stats)
  SWELL_UNARY_CALL(Overview)
  SWELL_UNARY_CALL(History)
  SWELL_UNARY_CALL(Control)
  SWELL_UNARY_CALL(Token)
  SWELL_UNARY_CALL(UserCert)
  SWELL_UNARY_CALL(Revoke)
  SWELL_UNARY_CALL(Renew)
  SWELL_UNARY_CALL(Rotate)
#undef SWELL_UNARY_CALL

  Status Wait(const pb::WaitRequest& in,
              const std::function<bool(const pb::WaitEvent&)>& on_event) override {
    grpc::ClientContext ctx;
    Prepare(&ctx, /*deadline=*/false);
    auto reader = stub_->Wait(&ctx, in);
    pb::WaitEvent ev;
    while (reader->Read(&ev)) {
      if (!on_event(ev)) {
        ctx.TryCancel();
        reader->Finish();
        return Status::Ok();
      }
    }
    return FromGrpc(reader->Finish());
  }

  Status Exec(const pb::ExecRequest& in, const std::function<void(const pb::ExecEvent&)>& on_event,
              CallCanceller* canceller) override {
    grpc::ClientContext ctx;
    Prepare(&ctx, /*deadline=*/false);
    if (canceller) canceller->Arm([&ctx] { ctx.TryCancel(); });
    auto reader = stub_->Exec(&ctx, in);
    pb::ExecEvent ev;
    while (reader->Read(&ev)) on_event(ev);
    Status s = FromGrpc(reader->Finish());
    if (canceller) {
      canceller->Disarm();
      if (canceller->cancelled() && !s.ok()) return Unavailable("cancelled");
    }
    return s;
  }

  Status WaitReady(Duration timeout) override {
    auto deadline = std::chrono::system_clock::now() + timeout;
    if (channel_->WaitForConnected(deadline)) return Status::Ok();
    return Unavailable("no head answers at " + endpoint_.address);
  }

  Result<std::unique_ptr<NodeLink>> OpenNodeSession() override {
    // A bounded wait for the connection (the head may be starting): the caller tries again,
    // and can stop in between. (A call that waited for the connection itself could not be
    // cancelled until it had one: a node pointed at no head, or at a TLS port without TLS,
    // did not stop on SIGTERM.)
    if (!channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(2)))
      return Unavailable("no head answers at " + endpoint_.address);
    return std::unique_ptr<NodeLink>(std::make_unique<GrpcNodeLink>(channel_, endpoint_.secret));
  }
  Result<std::unique_ptr<Sender<pb::NodeMessage>>> StartNodeSession(
      Receiver<pb::HeadMessage>* in) override {
    if (!channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(2)))
      return Unavailable("no head answers at " + endpoint_.address);
    return std::unique_ptr<Sender<pb::NodeMessage>>(
        std::make_unique<NodeCall>(stub_.get(), endpoint_.secret, in));
  }

 private:
  void Prepare(grpc::ClientContext* ctx, bool deadline) {
    if (deadline) ctx->set_deadline(std::chrono::system_clock::now() + timeout_);
    if (!endpoint_.secret.empty()) {
      ctx->AddMetadata("x-swell-secret", endpoint_.secret);
      ctx->AddMetadata("x-swell-uid", std::to_string(getuid()));
      ctx->AddMetadata("x-swell-gid", std::to_string(getgid()));
    }
  }

  Result<pb::QueueReply> Queue(const pb::QueueRequest& in) override {
    pb::QueueReply out;
    SWELL_RETURN_IF_ERROR(QueueInto(in, &out));
    return out;
  }

  // The jobs come as their wire bytes (QueueRequest.wire) and are parsed here into `jobs`.
  Status QueueInto(const pb::QueueRequest& in, pb::QueueReply* out) override {
    pb::QueueRequest req = in;
    req.set_wire(true);
    SWELL_RETURN_IF_ERROR(CallInto(req, &pb::Head::Stub::Queue, out));
    std::string wire;
    wire.swap(*out->mutable_jobs_wire());
    if (!out->MergeFromString(wire)) return Internal("the head's job listing does not parse");
    return Status::Ok();
  }

  template <typename Req, typename Rep>
  Status CallInto(const Req& in,
                  grpc::Status (pb::Head::Stub::*method)(grpc::ClientContext*, const Req&, Rep*),
                  Rep* out) {
    grpc::ClientContext ctx;
    Prepare(&ctx, /*deadline=*/true);
    grpc::Status s = (stub_.get()->*method)(&ctx, in, out);
    return s.ok() ? Status::Ok() : FromGrpc(s);
  }

  template <typename Req, typename Rep>
  Result<Rep> Call(const Req& in,
                   grpc::Status (pb::Head::Stub::*method)(grpc::ClientContext*, const Req&, Rep*)) {
    Rep out;
    SWELL_RETURN_IF_ERROR(CallInto(in, method, &out));
    return out;
  }

  Endpoint endpoint_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Head::Stub> stub_;
};

}  // namespace

void CallCanceller::Cancel() {
  std::function<void()> fn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return;
    cancelled_ = true;
    fn = fn_;
  }
  if (fn) fn();
}

bool CallCanceller::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

void CallCanceller::Arm(std::function<void()> fn) {
  bool run = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = fn;
    run = cancelled_;
  }
  if (run) fn();
}

void CallCanceller::Disarm() {
  std::lock_guard<std::mutex> lock(mu_);
  fn_ = nullptr;
}

Result<pb::JoinReply> Join(const std::string& address, const pb::JoinRequest& request,
                           Duration timeout) {
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (address.rfind("unix:", 0) != 0) {
    grpc::experimental::TlsChannelCredentialsOptions o;
    o.set_verify_server_certs(false);
    o.set_check_call_host(false);
    o.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    creds = grpc::experimental::TlsCredentials(o);
  }
  auto stub = pb::Head::NewStub(grpc::CreateChannel(address, creds));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  ctx.set_wait_for_ready(true);  // the head may be starting: wait for it, up to the deadline
  pb::JoinReply reply;
  grpc::Status s = stub->Join(&ctx, request, &reply);
  if (!s.ok()) return FromGrpc(s);
  return reply;
}

std::unique_ptr<HeadClient> HeadClient::Create(const Endpoint& endpoint) {
  // absl's mutex deadlock detection (on in Debian's absl) records every lock gRPC takes in a
  // graph: a few percent of a command's cpu, and of a node daemon's or the head's under load.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (g_keep_runtime) {
    // A reference to gRPC's runtime that is never given back: grpc_shutdown never runs.
    static const bool initialized = (grpc_init(), true);
    (void)initialized;
  }
  return std::make_unique<GrpcHeadClient>(endpoint);
}

void SetUpForOneCommand() {
  g_keep_runtime = true;
}

}  // namespace swell::rpc
