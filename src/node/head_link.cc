#include "node/head_link.h"

#include <set>
#include <tuple>
#include <vector>

#include "common/log.h"

namespace swell::node {
namespace {

// Reports of a busy node wait at most this long, or until this many are ready.
constexpr auto kReportDelay = std::chrono::milliseconds(20);
constexpr size_t kReportBatch = 512;

}  // namespace

HeadLink::HeadLink(Options options, Clock* clock, Handlers handlers)
    : opt_(std::move(options)), clock_(clock), handlers_(std::move(handlers)) {}

HeadLink::~HeadLink() {
  if (link_thread_.joinable() || writer_thread_.joinable()) Stop();
}

void HeadLink::Start() {
  next_heartbeat_ = clock_->Now();
  link_thread_ = std::thread([this] { LinkThread(); });
  writer_thread_ = std::thread([this] { WriterThread(); });
}

void HeadLink::BeginStop() { stopping_ = true; }

void HeadLink::Stop() {
  {
    std::unique_lock<std::mutex> lock(out_mu_);
    for (int i = 0; i < 20 && !outbox_.empty(); ++i) {
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      lock.lock();
    }
  }
  stopping_ = true;
  {
    std::lock_guard<std::mutex> lock(link_mu_);
    if (current_link_) current_link_->Close();
  }
  link_cv_.notify_all();
  out_cv_.notify_all();
  if (link_thread_.joinable()) link_thread_.join();
  if (writer_thread_.joinable()) writer_thread_.join();
}

void HeadLink::Post(Inbound in) {
  {
    std::lock_guard<std::mutex> lock(in_mu_);
    inbox_.push_back(std::move(in));
  }
  handlers_.wake();
}

void HeadLink::Send(pb::NodeMessage msg) {
  {
    std::lock_guard<std::mutex> lock(out_mu_);
    outbox_.push_back(std::move(msg));
  }
  out_cv_.notify_one();
}

void HeadLink::LinkThread() {
  uint64_t gen = 0;
  auto backoff = std::chrono::milliseconds(50);
  while (!stopping_) {
    // A fresh channel per attempt: a channel that saw the head die waits out gRPC's own
    // reconnect backoff (seconds), a new one connects at once.
    auto client = rpc::HeadClient::Create({opt_.head_address, opt_.secret, opt_.tls});
    auto link_or = client->OpenNodeSession();
    if (link_or.ok()) {
      std::shared_ptr<rpc::NodeLink> link(std::move(link_or).value());
      {
        std::lock_guard<std::mutex> lock(link_mu_);
        current_link_ = link;
        // Stop may have looked for a session to close while this one was opening: it set
        // stopping_ before taking link_mu_, so one of the two closes it.
        if (stopping_) link->Close();
      }
      ++gen;
      Post(LinkUp{link, gen});
      pb::HeadMessage m;
      bool got_any = false;
      while (link->Read(&m)) {
        got_any = true;
        Post(FromHead{std::move(m), gen});
        m.Clear();
      }
      Post(LinkDown{gen});
      if (got_any && !stopping_) LogInfo("node %s: lost the head; reconnecting", opt_.name.c_str());
      link->Close();
      {
        std::lock_guard<std::mutex> lock(link_mu_);
        current_link_.reset();
      }
      if (got_any) backoff = std::chrono::milliseconds(50);
    }
    std::unique_lock<std::mutex> lock(link_mu_);
    link_cv_.wait_for(lock, backoff, [this] { return stopping_.load(); });
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::milliseconds(1000));
  }
}

void HeadLink::WriterThread() {
  std::unique_lock<std::mutex> lock(out_mu_);
  // The link this thread has sent a Register on: it keeps that session alive by itself, so
  // that a node loop busy for longer than node_timeout (a stream of short tasks on a slow
  // machine) is not taken for a dead node. (Before its Register a session takes nothing else.)
  std::shared_ptr<rpc::NodeLink> registered;
  for (;;) {
    auto ready = [this] { return stopping_ || (!outbox_.empty() && out_link_); };
    if (!clock_->WaitUntil(out_cv_, lock, clock_->Now() + opt_.heartbeat, ready)) {
      if (!out_link_ || out_link_ != registered) continue;
      pb::NodeMessage hb;
      hb.set_heartbeat(true);
      outbox_.push_back(std::move(hb));
    }
    if (stopping_ && (outbox_.empty() || !out_link_)) return;
    auto link = out_link_;
    std::deque<pb::NodeMessage> batch;
    batch.swap(outbox_);
    lock.unlock();
    for (const auto& m : batch)
      if (m.has_register_()) registered = link;
    // Merge consecutive report batches into one message.
    std::vector<pb::NodeMessage> msgs;
    for (auto& m : batch) {
      if (m.has_reports() && !msgs.empty() && msgs.back().has_reports()) {
        auto* dst = msgs.back().mutable_reports();
        for (auto& r : *m.mutable_reports()->mutable_reports()) *dst->add_reports() = std::move(r);
        dst->set_seq(m.reports().seq());
      } else {
        msgs.push_back(std::move(m));
      }
    }
    for (auto& m : msgs) {
      if (!link->Write(m)) {
        link->Close();
        break;
      }
    }
    lock.lock();
  }
}

void HeadLink::Drain() {
  std::deque<Inbound> batch;
  {
    std::lock_guard<std::mutex> lock(in_mu_);
    batch.swap(inbox_);
  }
  for (auto& in : batch) Handle(in);
}

void HeadLink::Handle(Inbound& in) {
  if (auto* up = std::get_if<LinkUp>(&in)) {
    gen_ = up->gen;
    up_ = true;
    registered_ = false;
    {
      std::lock_guard<std::mutex> lock(out_mu_);
      outbox_.clear();
      out_link_ = up->link;
    }
    Register();
  } else if (auto* down = std::get_if<LinkDown>(&in)) {
    if (down->gen != gen_) return;
    up_ = false;
    registered_ = false;
    std::lock_guard<std::mutex> lock(out_mu_);
    out_link_.reset();
    outbox_.clear();
  } else if (auto* m = std::get_if<FromHead>(&in)) {
    if (m->gen != gen_) return;
    const pb::HeadMessage& msg = m->msg;
    if (msg.has_registered()) {
      if (!msg.registered().ok()) return handlers_.receive(msg);
      registered_ = true;
      LogInfo("node %s: registered with the head", opt_.name.c_str());
    }
    handlers_.receive(msg);
    if (msg.ack() != 0) Ack(msg.ack());
  }
}

void HeadLink::Register() {
  pb::NodeMessage msg;
  auto* r = msg.mutable_register_();
  handlers_.describe(r);
  for (auto& rep : unacked_) *r->add_unacked() = rep;
  r->set_next_seq(next_seq_);
  sent_seq_ = next_seq_ - 1;
  // The head acks the reports carried by Register in its answer.
  acked_seq_ = unacked_seq_.empty() ? sent_seq_ : unacked_seq_.front() - 1;
  Send(std::move(msg));
  next_heartbeat_ = clock_->Now() + opt_.heartbeat;
}

void HeadLink::Ack(uint64_t ack) {
  while (!unacked_seq_.empty() && unacked_seq_.front() <= ack) {
    unacked_seq_.pop_front();
    unacked_.pop_front();
  }
  acked_seq_ = std::max(acked_seq_, ack);
}

void HeadLink::Heartbeat(Time now) {
  if (!up_ || now < next_heartbeat_) return;
  pb::NodeMessage hb;
  hb.set_heartbeat(true);
  Send(std::move(hb));
  next_heartbeat_ = now + opt_.heartbeat;
}

Time HeadLink::NextDeadline(Time now) const {
  Time next = up_ ? next_heartbeat_ : now + std::chrono::seconds(1);
  if (registered_ && sent_seq_ + 1 < next_seq_ && acked_seq_ >= sent_seq_)
    next = std::min(next, first_unsent_ + kReportDelay);
  return next;
}

void HeadLink::Report(pb::TaskReport r) {
  if (sent_seq_ + 1 == next_seq_) first_unsent_ = clock_->Now();
  unacked_seq_.push_back(next_seq_++);
  unacked_.push_back(std::move(r));
}

void HeadLink::Flush(bool busy) {
  if (!registered_ || sent_seq_ + 1 >= next_seq_ || acked_seq_ < sent_seq_) return;
  size_t unsent = static_cast<size_t>(next_seq_ - 1 - sent_seq_);
  size_t start = unacked_.size() - unsent;
  if (busy && unsent < kReportBatch && clock_->Now() - first_unsent_ < kReportDelay) return;
  pb::NodeMessage msg;
  auto* batch = msg.mutable_reports();
  // A task that started and ended within this batch is reported once, by its end.
  std::set<std::tuple<int64_t, int64_t, int>> ended;
  for (size_t i = start; i < unacked_.size(); ++i)
    if (!unacked_[i].started())
      ended.insert(
          {unacked_[i].key().job_id(), unacked_[i].key().pos(), unacked_[i].key().attempt()});
  for (size_t i = start; i < unacked_.size(); ++i) {
    const auto& r = unacked_[i];
    if (r.started() && ended.count({r.key().job_id(), r.key().pos(), r.key().attempt()})) continue;
    *batch->add_reports() = r;
  }
  batch->set_seq(next_seq_ - 1);
  sent_seq_ = next_seq_ - 1;
  Send(std::move(msg));
}

}  // namespace swell::node
