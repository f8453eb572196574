#pragma once

// A libswell_mr worker: connects to the driver, keeps the static data of the partitions it is
// given, maps them each iteration, streams map outputs to the workers that reduce them, and
// reduces its own reduce partitions. Runs in a worker process (Runtime::Serve) or on a thread
// of the driver's process (launcher rank 0, single mode).

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "mr/net.h"
#include "swell/mr/mr.h"

namespace swell::mr {

using Registry = std::map<std::string, internal::JobFactory>;

struct WorkerOptions {
  std::string driver_host;
  uint16_t driver_port = 0;
  std::string key;           // must match the driver's
  std::string listen_host;   // for the shuffle listener: "127.0.0.1" or "0.0.0.0"
  std::string advertise;     // the host others reach this worker at
  const std::atomic<bool>* leave = nullptr;  // set (e.g. by SIGTERM): ask the driver to go
  net::Dialer dial_peer = net::Connect;      // opens the shuffle connections to peers
};

// Serves until the driver says stop or goes away. Returns 0 after a stop, 1 when the driver
// could not be reached or vanished.
int RunWorker(const Registry& jobs, const WorkerOptions& options);

}  // namespace swell::mr
