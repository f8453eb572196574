#include "node/pmi1_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/log.h"
#include "common/text.h"

namespace swell::node {
namespace {

constexpr size_t kKeyMax = 64;
constexpr size_t kValueMax = 1024;
constexpr size_t kLineMax = 4096;  // a longer line is not PMI: the connection is dropped

// "cmd=put kvsname=k key=a value=b" -> {cmd: put, kvsname: k, key: a, value: b}.
std::map<std::string, std::string> Fields(const std::string& line) {
  std::map<std::string, std::string> out;
  for (std::string_view word : Split(line, ' ')) {
    size_t eq = word.find('=');
    if (eq != std::string_view::npos)
      out[std::string(word.substr(0, eq))] = std::string(word.substr(eq + 1));
  }
  return out;
}

void WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the rank is gone; its end will show as EOF
    done += static_cast<size_t>(n);
  }
}

}  // namespace

Pmi1Server::~Pmi1Server() {
  for (const auto& [fd, c] : conns_) {
    poller_->Remove(fd);
    close(fd);
  }
}

std::string Pmi1Server::ProcessMapping(const std::vector<int>& counts) {
  std::string out = "(vector";
  for (size_t i = 0; i < counts.size();) {
    size_t j = i;
    while (j < counts.size() && counts[j] == counts[i]) ++j;
    out += ",(" + std::to_string(i) + "," + std::to_string(j - i) + "," +
           std::to_string(counts[i]) + ")";
    i = j;
  }
  return out + ")";
}

std::string Pmi1Server::EncodePuts(const std::map<std::string, std::string>& puts) {
  std::string out;
  for (const auto& [k, v] : puts)
    out += std::to_string(k.size()) + ":" + k + std::to_string(v.size()) + ":" + v;
  return out;
}

Result<std::map<std::string, std::string>> Pmi1Server::DecodePuts(const std::string& data) {
  std::map<std::string, std::string> out;
  size_t at = 0;
  auto piece = [&](std::string* into) {
    size_t colon = data.find(':', at);
    if (colon == std::string::npos || colon == at) return false;
    size_t len = 0;
    for (size_t i = at; i < colon; ++i) {
      if (data[i] < '0' || data[i] > '9' || len > data.size()) return false;
      len = len * 10 + static_cast<size_t>(data[i] - '0');
    }
    if (len > data.size() - colon - 1) return false;
    *into = data.substr(colon + 1, len);
    at = colon + 1 + len;
    return true;
  };
  while (at < data.size()) {
    std::string k, v;
    if (!piece(&k) || !piece(&v)) return InvalidArgument("PMI: a barrier's puts are garbled");
    out[k] = v;
  }
  return out;
}

void Pmi1Server::AddStep(const Step& step) {
  StepState& s = steps_[step.exec_id];
  s.step = step;
  s.kvs["PMI_process_mapping"] = ProcessMapping(step.counts);
}

Result<int> Pmi1Server::Connect(int64_t exec_id, int rank) {
  if (!steps_.count(exec_id)) return NotFound("PMI: no such step here");
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    return Internal(std::string("PMI: socketpair: ") + std::strerror(errno));
  fcntl(pair[0], F_SETFL, fcntl(pair[0], F_GETFL) | O_NONBLOCK);
  conns_[pair[0]] = {exec_id, rank, ""};
  poller_->Add(pair[0]);
  return pair[1];
}

void Pmi1Server::Close(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  auto st = steps_.find(it->second.exec_id);
  if (st != steps_.end()) st->second.waiting.erase(fd);
  poller_->Remove(fd);
  close(fd);
  conns_.erase(it);
}

void Pmi1Server::Answer(int fd, const std::string& line) { WriteAll(fd, line + "\n"); }

void Pmi1Server::Handle(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    if (n <= 0) {
      Close(fd);  // the rank ended (or closed its end after finalize)
      return;
    }
    it->second.in.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = it->second.in.find('\n')) != std::string::npos) {
      std::string line = it->second.in.substr(0, nl);
      it->second.in.erase(0, nl + 1);
      Command(fd, it->second, line);
      if (!conns_.count(fd)) return;  // closed by the command
    }
    if (it->second.in.size() > kLineMax) {
      LogWarning("PMI: rank %d sent a line longer than %zu bytes: dropping it", it->second.rank,
                 kLineMax);
      Close(fd);
      return;
    }
  }
}

void Pmi1Server::Command(int fd, Conn& c, const std::string& line) {
  auto st = steps_.find(c.exec_id);
  if (st == steps_.end()) return Close(fd);
  StepState& s = st->second;
  auto f = Fields(line);
  const std::string& cmd = f["cmd"];
  if (cmd == "init") {
    Answer(fd, "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0");
  } else if (cmd == "get_maxes") {
    Answer(fd, "cmd=maxes kvsname_max=256 keylen_max=" + std::to_string(kKeyMax) +
                   " vallen_max=" + std::to_string(kValueMax) + " rc=0");
  } else if (cmd == "get_universe_size") {
    Answer(fd, "cmd=universe_size size=" + std::to_string(s.step.size) + " rc=0");
  } else if (cmd == "get_appnum") {
    Answer(fd, "cmd=appnum appnum=0 rc=0");
  } else if (cmd == "get_my_kvsname") {
    Answer(fd, "cmd=my_kvsname kvsname=" + s.step.kvsname + " rc=0");
  } else if (cmd == "put") {
    const std::string& key = f["key"];
    if (key.empty() || key.size() > kKeyMax || f["value"].size() > kValueMax) {
      Answer(fd, "cmd=put_result rc=-1 msg=key_or_value_too_long");
    } else {
      s.puts[key] = f["value"];
      s.kvs[key] = f["value"];
      Answer(fd, "cmd=put_result rc=0 msg=success");
    }
  } else if (cmd == "get") {
    auto kv = s.kvs.find(f["key"]);
    if (kv == s.kvs.end())
      Answer(fd, "cmd=get_result rc=-1 msg=key_" + f["key"] + "_not_found");
    else
      Answer(fd, "cmd=get_result rc=0 msg=success value=" + kv->second);
  } else if (cmd == "barrier_in") {
    s.waiting.insert(fd);
    if (static_cast<int>(s.waiting.size()) < s.step.local) return;
    Request r;
    r.exec_id = c.exec_id;
    r.seq = -(++s.barriers);
    r.data = EncodePuts(s.puts);
    s.puts.clear();
    requests_.push_back(std::move(r));
  } else if (cmd == "finalize") {
    Answer(fd, "cmd=finalize_ack rc=0");
  } else if (cmd == "abort") {
    Request r;
    r.kind = Request::kAbort;
    r.exec_id = c.exec_id;
    r.rank = c.rank;
    r.status = f.count("exitcode") ? std::atoi(f["exitcode"].c_str()) : 1;
    r.message = f["message"];
    requests_.push_back(std::move(r));
  } else {
    LogWarning("PMI: rank %d asked for '%s', which swell does not serve", c.rank, cmd.c_str());
    Answer(fd, "cmd=" + cmd + "_result rc=-1 msg=not_supported");
  }
}

void Pmi1Server::FenceDone(int64_t exec_id, int seq, const std::string& data,
                           const std::string& error) {
  auto st = steps_.find(exec_id);
  // A failed fence frees this node's ranks whichever barrier they wait in.
  if (st == steps_.end() || (error.empty() && -seq != st->second.barriers)) return;
  StepState& s = st->second;
  std::string reply = "cmd=barrier_out rc=0";
  if (!error.empty()) {
    std::string msg = error;
    std::replace(msg.begin(), msg.end(), ' ', '_');
    reply = "cmd=barrier_out rc=-1 msg=" + msg;
  } else if (auto puts = DecodePuts(data); puts.ok()) {
    for (auto& [k, v] : *puts) s.kvs[k] = std::move(v);
  } else {
    reply = "cmd=barrier_out rc=-1 msg=garbled_barrier_data";
  }
  for (int fd : s.waiting) Answer(fd, reply);
  s.waiting.clear();
}

void Pmi1Server::RemoveStep(int64_t exec_id) {
  std::vector<int> fds;
  for (const auto& [fd, c] : conns_)
    if (c.exec_id == exec_id) fds.push_back(fd);
  for (int fd : fds) Close(fd);
  steps_.erase(exec_id);
}

}  // namespace swell::node
