#pragma once

// The messages between a libswell_mr driver and its workers, and between workers.
//
// Driver <-> worker, on the worker's control connection (the worker connects):
//   kHello    w->d  key, pid, host, data port           the worker is up
//   kWelcome  d->w  worker id
//   kOpen     d->w  job id, job name                    make the job object (a registered name)
//   kLoad     d->w  job id, [(partition, spec)]         load static data
//   kLoaded   w->d  job id, seconds                     ... done (or kError)
//   kDrop     d->w  job id, [partition]                 forget static data (it moved)
//   kIterate  d->w  Iterate below                       map my partitions, reduce mine
//   kMapped   w->d  job id, iter, attempt, map seconds, bytes sent
//   kResult   w->d  job id, iter, attempt, part, reduce seconds, wait seconds, bytes
//                                                       a reduce partition's output (map-only
//                                                       jobs: a map partition's output)
//   kClose    d->w  job id                              drop the job
//   kLeave    w->d  (no payload)                        I was told to stop (SIGTERM)
//   kStop     d->w  (no payload)                        exit now
//   kError    w->d  job id, message                     the job's own code failed
//   kUnreachable w->d  job id, iter, attempt, worker id  I cannot reach that peer (it goes)
// Worker -> worker, on a shuffle connection (the sender connects):
//   kPeer     w->w  worker id
//   kData     w->w  job id, iter, attempt, partition, reducer, last, bytes
//
// (iter, attempt) names one run of an iteration: a worker failure makes the driver run the
// same iteration again with attempt + 1, and every message of an older run is dropped.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "swell/mr/serialize.h"

namespace swell::mr::proto {

enum Type : uint8_t {
  kHello = 1,
  kWelcome,
  kOpen,
  kLoad,
  kLoaded,
  kDrop,
  kIterate,
  kMapped,
  kResult,
  kClose,
  kLeave,
  kStop,
  kError,
  kPeer,
  kData,
  kUnreachable,
};

struct Hello {
  std::string key;  // the job's rendezvous key: a stray worker of another job is refused
  int64_t pid = 0;
  std::string host;
  uint16_t data_port = 0;
};

struct Run {  // (job, iteration, attempt)
  int64_t job = 0;
  int64_t iter = 0;
  int64_t attempt = 0;
  bool operator==(const Run&) const = default;
  auto operator<=>(const Run&) const = default;
};

struct Iterate {
  Run run;
  int32_t partitions = 0;              // map partitions in the job
  std::vector<int32_t> maps;           // the ones this worker maps
  std::vector<int32_t> reducer_owner;  // worker id per reduce partition (empty: map-only)
  std::vector<std::pair<int32_t, std::pair<std::string, uint16_t>>> peers;  // id -> host, port
  // followed by the dynamic data (the frame's body)
};

struct Data {
  Run run;
  int32_t partition = 0;
  int32_t reducer = 0;
  bool last = false;  // the partition's last piece for this reducer
  // followed by encoded (key, value) records (the frame's body)
};

struct ResultHead {
  Run run;
  int32_t part = 0;
  double reduce_s = 0;  // or, map-only: the partition's map seconds
  double wait_s = 0;    // from the end of this worker's map until the inputs were complete
  // followed by the encoded output (the frame's body)
};

struct Mapped {
  Run run;
  double map_s = 0;
  int64_t bytes = 0;
};

struct Unreachable {  // a worker could not connect or send to the peer `worker` during `run`
  Run run;
  int32_t worker = -1;
};

}  // namespace swell::mr::proto

namespace swell::mr {

template <>
struct Serde<proto::Hello> : SerdeMembers<&proto::Hello::key, &proto::Hello::pid,
                                          &proto::Hello::host, &proto::Hello::data_port> {};

template <>
struct Serde<proto::Iterate>
    : SerdeMembers<&proto::Iterate::run, &proto::Iterate::partitions, &proto::Iterate::maps,
                   &proto::Iterate::reducer_owner, &proto::Iterate::peers> {};

template <>
struct Serde<proto::Data> {
  static void Write(Writer& w, const proto::Data& v) {
    w.Put(v.run);
    w.Put(v.partition);
    w.Put(v.reducer);
    w.Put(static_cast<uint8_t>(v.last));
  }
  static bool Read(Reader& r, proto::Data& v) {
    uint8_t last = 0;
    bool ok = r.Get(v.run) && r.Get(v.partition) && r.Get(v.reducer) && r.Get(last) && last <= 1;
    v.last = last != 0;
    return ok;
  }
};

}  // namespace swell::mr
