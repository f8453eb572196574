#include "rpc/stream_session.h"

#include <gtest/gtest.h>

#include <thread>

namespace swell::rpc {
namespace {

// A stream that keeps what is written, and breaks after `limit` writes.
class Recorder final : public Stream<pb::NodeMessage, pb::HeadMessage> {
 public:
  explicit Recorder(int limit = 1 << 30) : limit_(limit) {}
  bool Read(pb::NodeMessage*) override { return false; }
  bool Write(const pb::HeadMessage& m) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (static_cast<int>(acks_.size()) >= limit_) return false;
    acks_.push_back(m.ack());
    return true;
  }
  void Cancel() override { cancelled_ = true; }
  std::vector<uint64_t> acks() {
    std::lock_guard<std::mutex> lock(mu_);
    return acks_;
  }
  std::atomic<bool> cancelled_{false};

 private:
  std::mutex mu_;
  std::vector<uint64_t> acks_;
  int limit_;
};

pb::HeadMessage Ack(uint64_t n) {
  pb::HeadMessage m;
  m.set_ack(n);
  return m;
}

TEST(StreamOutTest, WritesInOrderUntilClosedAndCancelsTheStream) {
  Recorder stream;
  StreamOut s(&stream);
  std::thread writer([&] { s.WriteLoop(); });
  for (uint64_t i = 1; i <= 100; ++i) s.Send(Ack(i));
  while (stream.acks().size() < 100) std::this_thread::yield();
  s.Close();
  writer.join();
  auto acks = stream.acks();
  for (uint64_t i = 0; i < acks.size(); ++i) EXPECT_EQ(acks[i], i + 1);
  EXPECT_TRUE(stream.cancelled_);
  s.Send(Ack(101));  // closed: dropped
  EXPECT_EQ(stream.acks().size(), 100u);
}

TEST(StreamOutTest, ABrokenStreamEndsTheWriterAndAnEndedOneIsNotTouched) {
  Recorder stream(/*limit=*/2);
  StreamOut s(&stream);
  for (uint64_t i = 1; i <= 5; ++i) s.Send(Ack(i));
  s.WriteLoop();  // returns when the third write fails
  EXPECT_EQ(stream.acks().size(), 2u);
  s.Ended();
  s.Close();  // the handler returned: the stream is gone, Close must not cancel it
  EXPECT_FALSE(stream.cancelled_);
}

}  // namespace
}  // namespace swell::rpc
