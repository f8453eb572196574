// The shuffle's transport, measured: libswell_mr's framed TCP (asio, src/mr/net.h) against
// ZeroMQ (PUSH/PULL for streams, PAIR for ping-pong) over loopback, both sides in one process
// on two threads. Prints a table to stderr and one JSON line to stdout.
//
//   transport_bench [--quick]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "mr/net.h"

namespace {

using Steady = std::chrono::steady_clock;
using swell::mr::net::Conn;

struct Pair {
  std::unique_ptr<Conn> a, b;
};

Pair TcpPair() {
  auto l = swell::mr::net::Listen("127.0.0.1", 0);
  if (!l.ok()) std::abort();
  Pair p;
  std::thread t([&] { p.b = std::move((*l)->Accept()).value(); });
  p.a = std::move(swell::mr::net::Connect("127.0.0.1", (*l)->port(), std::chrono::seconds(5)))
            .value();
  t.join();
  return p;
}

// Microseconds per round trip of a `size`-byte message.
double TcpPingPong(int rounds, size_t size) {
  Pair p = TcpPair();
  std::string msg(size, 'x');
  std::thread echo([&] {
    for (int i = 0; i < rounds; ++i) {
      auto m = p.b->Recv();
      (void)p.b->Send(m->type, m->payload);
    }
  });
  auto t0 = Steady::now();
  for (int i = 0; i < rounds; ++i) {
    (void)p.a->Send(1, msg);
    (void)p.a->Recv();
  }
  double us = std::chrono::duration<double, std::micro>(Steady::now() - t0).count() / rounds;
  echo.join();
  return us;
}

// MB/s of `count` messages of `size` bytes one way.
double TcpStream(int count, size_t size) {
  Pair p = TcpPair();
  std::string msg(size, 'x');
  auto t0 = Steady::now();
  std::thread rx([&] {
    for (int i = 0; i < count; ++i) (void)p.b->Recv();
  });
  for (int i = 0; i < count; ++i) (void)p.a->Send(1, msg);
  rx.join();
  double s = std::chrono::duration<double>(Steady::now() - t0).count();
  return static_cast<double>(count) * size / s / 1e6;
}

double ZmqPingPong(zmq::context_t& ctx, int rounds, size_t size) {
  zmq::socket_t a(ctx, zmq::socket_type::pair), b(ctx, zmq::socket_type::pair);
  b.bind("tcp://127.0.0.1:*");
  a.connect(b.get(zmq::sockopt::last_endpoint));
  std::string msg(size, 'x');
  std::thread echo([&] {
    for (int i = 0; i < rounds; ++i) {
      zmq::message_t m;
      (void)b.recv(m);
      (void)b.send(m, zmq::send_flags::none);
    }
  });
  auto t0 = Steady::now();
  for (int i = 0; i < rounds; ++i) {
    (void)a.send(zmq::buffer(msg), zmq::send_flags::none);
    zmq::message_t m;
    (void)a.recv(m);
  }
  double us = std::chrono::duration<double, std::micro>(Steady::now() - t0).count() / rounds;
  echo.join();
  return us;
}

double ZmqStream(zmq::context_t& ctx, int count, size_t size) {
  zmq::socket_t push(ctx, zmq::socket_type::push), pull(ctx, zmq::socket_type::pull);
  pull.bind("tcp://127.0.0.1:*");
  push.connect(pull.get(zmq::sockopt::last_endpoint));
  std::string msg(size, 'x');
  auto t0 = Steady::now();
  std::thread rx([&] {
    for (int i = 0; i < count; ++i) {
      zmq::message_t m;
      (void)pull.recv(m);
    }
  });
  for (int i = 0; i < count; ++i) (void)push.send(zmq::buffer(msg), zmq::send_flags::none);
  rx.join();
  double s = std::chrono::duration<double>(Steady::now() - t0).count();
  return static_cast<double>(count) * size / s / 1e6;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  int reps = quick ? 1 : 5;
  int rounds = quick ? 2000 : 20000;
  zmq::context_t ctx(1);
  struct Row {
    const char* what;
    double tcp, zmq;
    const char* unit;
  };
  std::vector<Row> rows;
  auto both = [&](const char* what, const char* unit, auto tcp, auto zmq) {
    std::vector<double> t, z;
    for (int r = 0; r < reps; ++r) {  // alternating, so that drift hits both alike
      t.push_back(tcp());
      z.push_back(zmq());
    }
    rows.push_back({what, Median(t), Median(z), unit});
  };
  both("ping-pong 64 B", "us", [&] { return TcpPingPong(rounds, 64); },
       [&] { return ZmqPingPong(ctx, rounds, 64); });
  int n64k = quick ? 2000 : 20000, n1m = quick ? 200 : 2000;
  both("stream 64 KiB", "MB/s", [&] { return TcpStream(n64k, 64 << 10); },
       [&] { return ZmqStream(ctx, n64k, 64 << 10); });
  both("stream 1 MiB", "MB/s", [&] { return TcpStream(n1m, 1 << 20); },
       [&] { return ZmqStream(ctx, n1m, 1 << 20); });
  std::fprintf(stderr, "%-16s %12s %12s %6s\n", "", "tcp (asio)", "zeromq", "");
  for (const auto& r : rows)
    std::fprintf(stderr, "%-16s %12.1f %12.1f %6s\n", r.what, r.tcp, r.zmq, r.unit);
  std::printf("{\"name\": \"transport\", \"reps\": %d, \"tcp_pingpong_us\": %.2f, "
              "\"zmq_pingpong_us\": %.2f, \"tcp_64k_mbps\": %.0f, \"zmq_64k_mbps\": %.0f, "
              "\"tcp_1m_mbps\": %.0f, \"zmq_1m_mbps\": %.0f}\n",
              reps, rows[0].tcp, rows[0].zmq, rows[1].tcp, rows[1].zmq, rows[2].tcp, rows[2].zmq);
  return 0;
}
