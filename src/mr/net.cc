#include "mr/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <asio.hpp>
#include <cstdlib>
#include <thread>

namespace swell::mr::net {

namespace {

using asio::ip::tcp;

// One io_context for every blocking socket of the process: blocking calls never run it, it
// only owns the sockets.
asio::io_context& Io() {
  static asio::io_context io;
  return io;
}

// Sockets must not leak into the programs a worker runs (swell mr mapfiles): a tool that held
// a dead worker's socket would hide its death from the driver.
void CloseOnExec(int fd) { fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC); }

Status NetError(const std::string& what, const asio::error_code& ec) {
  return Unavailable(what + ": " + ec.message());
}

class TcpConn final : public Conn {
 public:
  explicit TcpConn(tcp::socket s) : s_(std::move(s)) {
    CloseOnExec(s_.native_handle());
    asio::error_code ec;
    s_.set_option(tcp::no_delay(true), ec);
    auto ep = s_.remote_endpoint(ec);
    if (!ec) peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  ~TcpConn() override {
    asio::error_code ec;
    s_.close(ec);
  }

  Status Send(uint8_t type, std::string_view head, std::string_view body) override {
    size_t n = 1 + head.size() + body.size();
    if (n > kMaxFrame) return ResourceExhausted("message of " + std::to_string(n) + " bytes");
    const std::string prefix = EncodeFrameHeader(type, n - 1);
    std::array<asio::const_buffer, 3> bufs = {asio::buffer(prefix), asio::buffer(head),
                                              asio::buffer(body)};
    std::lock_guard<std::mutex> lock(send_mu_);
    asio::error_code ec;
    asio::write(s_, bufs, ec);
    if (ec) return NetError("send to " + peer_, ec);
    return Status::Ok();
  }

  void set_max_frame(size_t n) override { max_frame_ = n; }

  Result<Message> Recv() override {
    std::array<char, kFrameHeader> prefix;
    asio::error_code ec;
    asio::read(s_, asio::buffer(prefix), ec);
    if (ec) return NetError("receive from " + peer_, ec);
    auto header = DecodeFrameHeader({prefix.data(), prefix.size()}, max_frame_);
    if (!header.ok()) return Unavailable("bad frame from " + peer_);
    Message m;
    m.type = header->type;
    m.payload.resize(header->payload);
    asio::read(s_, asio::buffer(m.payload), ec);
    if (ec) return NetError("receive from " + peer_, ec);
    return m;
  }

  void Close() override {
    // shutdown(2) wakes a thread blocked in read on this socket; close happens in the
    // destructor, when no thread uses the socket any more.
    ::shutdown(s_.native_handle(), SHUT_RDWR);
  }

  std::string peer() const override { return peer_; }

 private:
  tcp::socket s_;
  std::mutex send_mu_;
  std::string peer_ = "?";
  size_t max_frame_ = kMaxFrame;
};

class TcpListener final : public Listener {
 public:
  explicit TcpListener(tcp::acceptor a) : a_(std::move(a)) {}
  ~TcpListener() override {
    asio::error_code ec;
    a_.close(ec);
  }
  Result<std::unique_ptr<Conn>> Accept() override {
    tcp::socket s(Io());
    asio::error_code ec;
    a_.accept(s, ec);
    if (ec) return NetError("accept", ec);
    return std::unique_ptr<Conn>(std::make_unique<TcpConn>(std::move(s)));
  }
  uint16_t port() const override {
    asio::error_code ec;
    return a_.local_endpoint(ec).port();
  }
  void Close() override { ::shutdown(a_.native_handle(), SHUT_RDWR); }

 private:
  tcp::acceptor a_;
};

}  // namespace

std::string EncodeFrameHeader(uint8_t type, size_t payload) {
  std::string h(kFrameHeader, '\0');
  auto len = static_cast<uint32_t>(payload + 1);
  for (int i = 0; i < 4; ++i) h[i] = static_cast<char>(len >> (8 * i));
  h[4] = static_cast<char>(type);
  return h;
}

Result<FrameHeader> DecodeFrameHeader(std::string_view header, size_t max_frame) {
  if (header.size() < kFrameHeader) return Unavailable("short frame header");
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i)
    len |= static_cast<uint32_t>(static_cast<uint8_t>(header[i])) << (8 * i);
  if (len < 1 || len > max_frame) return Unavailable("bad frame length " + std::to_string(len));
  return FrameHeader{static_cast<uint8_t>(header[4]), len - 1};
}

Result<std::unique_ptr<Listener>> Listen(const std::string& host, uint16_t port) {
  asio::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgument("bad listen address '" + host + "'");
  tcp::acceptor a(Io());
  tcp::endpoint ep(addr, port);
  a.open(ep.protocol(), ec);
  if (!ec) CloseOnExec(a.native_handle());
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return NetError("listen on " + host + ":" + std::to_string(port), ec);
  return std::unique_ptr<Listener>(std::make_unique<TcpListener>(std::move(a)));
}

Result<std::unique_ptr<Conn>> Connect(const std::string& host, uint16_t port, Duration timeout) {
  asio::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) {
    // A name: resolve it (once; the address does not change while we retry).
    tcp::resolver res(Io());
    auto r = res.resolve(host, std::to_string(port), ec);
    if (ec || r.empty()) return Unavailable("cannot resolve '" + host + "': " + ec.message());
    addr = r.begin()->endpoint().address();
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto pause = std::chrono::milliseconds(5);; pause = std::min(pause * 2, Duration(200))) {
    tcp::socket s(Io());
    s.connect(tcp::endpoint(addr, port), ec);
    if (!ec) return std::unique_ptr<Conn>(std::make_unique<TcpConn>(std::move(s)));
    if (std::chrono::steady_clock::now() + pause >= deadline)
      return NetError("connect to " + host + ":" + std::to_string(port), ec);
    std::this_thread::sleep_for(pause);
  }
}

std::string AdvertisedHost() {
  if (const char* h = std::getenv("SWELL_MR_HOST"); h && *h) return h;
  std::string found = "127.0.0.1";
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return found;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
    char buf[INET_ADDRSTRLEN];
    auto* in = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf)) {
      found = buf;
      break;
    }
  }
  freeifaddrs(list);
  return found;
}

}  // namespace swell::mr::net
