#pragma once

// Framed messages over TCP for libswell_mr: the driver's control connections and the shuffle
// between workers. Blocking sockets, one reader thread per connection: a job has tens of
// workers, not thousands, and a reader that always drains its socket into memory is what
// keeps two workers that send to each other at once from deadlocking. (docs/mapreduce.md has
// the benchmark against ZeroMQ that chose this.) The only file that includes asio.
//
// A frame is a 4-byte little-endian length, a 1-byte type and the payload.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "swell/status.h"

namespace swell::mr::net {

constexpr size_t kMaxFrame = size_t{1} << 31;  // 2 GiB: a larger message is a bug

struct Message {
  uint8_t type = 0;
  std::string payload;
};

// A frame's first 5 bytes: the length of type and payload (4 bytes, little-endian), the type.
constexpr size_t kFrameHeader = 5;
struct FrameHeader {
  uint8_t type = 0;
  size_t payload = 0;  // bytes that follow the header
};
// The header of a frame of `type` whose payload is `payload` bytes (at most kMaxFrame - 1).
std::string EncodeFrameHeader(uint8_t type, size_t payload);
// Reads a header; Unavailable for a length of 0 or over `max_frame`.
Result<FrameHeader> DecodeFrameHeader(std::string_view header, size_t max_frame);

// One connection. Send is thread-safe (whole frames never interleave); Recv is called from
// one thread at a time. Close may be called from any thread and wakes a blocked Recv.
class Conn {
 public:
  virtual ~Conn() = default;
  // Sends one frame of `type` whose payload is head + body (gathered, not copied).
  virtual Status Send(uint8_t type, std::string_view head, std::string_view body = {}) = 0;
  // The next frame; Unavailable when the peer closed the connection or died.
  virtual Result<Message> Recv() = 0;
  virtual void Close() = 0;
  // "host:port" of the peer.
  virtual std::string peer() const = 0;
  // The largest frame Recv accepts (kMaxFrame by default); a small one until a peer has
  // shown the job's key, so that a stranger cannot make us allocate gigabytes.
  virtual void set_max_frame(size_t n) = 0;
};

class Listener {
 public:
  virtual ~Listener() = default;
  virtual Result<std::unique_ptr<Conn>> Accept() = 0;  // Unavailable once closed
  virtual uint16_t port() const = 0;
  virtual void Close() = 0;  // wakes a blocked Accept
};

// Listens on `host` ("0.0.0.0", "127.0.0.1") and `port` (0: any free port).
Result<std::unique_ptr<Listener>> Listen(const std::string& host, uint16_t port);
// Connects, retrying refused connections until `timeout` (the peer may still be starting).
// Unavailable when the host cannot be resolved or the connection is still refused (or fails
// otherwise) at the deadline. Thread-safe.
Result<std::unique_ptr<Conn>> Connect(const std::string& host, uint16_t port, Duration timeout);

// How a worker opens its shuffle connections to its peers: Connect in production; in tests, a
// wrapper of Connect that injects faults (a peer behind a network partition). The contract is
// Connect's: a connection, or a non-OK status (Unavailable for an unreachable peer) and then
// nothing to close. A worker calls it from its own main thread only, so a dialer shared by
// several workers of one process must be thread-safe.
using Dialer = std::function<Result<std::unique_ptr<Conn>>(const std::string& host, uint16_t port,
                                                           Duration timeout)>;

// The address other hosts reach this one at: $SWELL_MR_HOST if set, else the first IPv4
// address of an interface that is up and not loopback, else 127.0.0.1.
std::string AdvertisedHost();

}  // namespace swell::mr::net
