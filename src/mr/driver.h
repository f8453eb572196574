#pragma once

// The libswell_mr driver: accepts workers, assigns partitions, runs iterations, survives
// worker failures and membership changes. Used from the driver's thread only (the accept loop
// and one reader per worker run on their own threads and talk to it through a queue).

#include <memory>
#include <string>
#include <vector>

#include "mr/net.h"
#include "swell/mr/mr.h"

namespace swell::mr {

class Driver {
 public:
  // `key` is the job's rendezvous key that workers must present.
  Driver(std::string key, std::unique_ptr<net::Listener> listener, bool print_stats);
  ~Driver();  // stops every worker (kStop) and joins the threads

  uint16_t port() const;
  // Waits until `n` workers have connected (the launch's expected count).
  Status WaitForWorkers(int n, Duration timeout);
  Result<std::unique_ptr<internal::DriverJob>> Open(const std::string& name,
                                                    std::vector<std::string> partitions,
                                                    const JobOptions& options, bool map_only);
  int live_workers() const;
  // Process ids of the workers that have connected (and so will obey a stop).
  std::vector<int64_t> connected_pids() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace swell::mr
