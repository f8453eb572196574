#pragma once

// A provider wrapper that injects faults, for tests: creates that fail, boots that hang (the
// provider says yes, the instance exists and is billed, but its node never registers), and
// nodes that die mid-job the way a spot preemption ends them. Thread-safe.

#include <memory>
#include <mutex>
#include <set>

#include "provider/provider.h"

namespace swell::provider {

struct FaultPlan {
  int fail_creates = 0;  // the next N creates fail
  int hang_boots = 0;    // then the next N creates "succeed" but never boot
};

class FaultyProvider final : public Provider {
 public:
  FaultyProvider(std::unique_ptr<Provider> inner, FaultPlan plan)
      : inner_(std::move(inner)), plan_(plan) {}
  std::string kind() const override { return "faulty(" + inner_->kind() + ")"; }
  Status Create(const std::string& name, const head::autoscaler::NodeType& type) override;
  Status Delete(const std::string& name) override;
  Result<std::vector<std::string>> List() override;

  // Ends a node without the head asking, as a spot preemption would (its daemon gets the
  // shutdown notice: SIGTERM for `local`).
  Status Preempt(const std::string& name);
  void SetPlan(FaultPlan plan);
  // Every name ever created (successfully or hung) and not deleted since.
  std::set<std::string> Existing();
  int creates() const;  // Create calls seen
  int deletes() const;  // Delete calls seen

 private:
  std::unique_ptr<Provider> inner_;
  mutable std::mutex mu_;
  FaultPlan plan_;
  std::set<std::string> hung_, existing_;
  int creates_ = 0, deletes_ = 0;
};

}  // namespace swell::provider
