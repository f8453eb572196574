#include "head/state/pool_record.h"

namespace swell::head {

state::PoolRow ToPoolRow(const elastic::PoolNode& node,
                         const std::vector<autoscaler::NodeType>& types) {
  state::PoolRow r;
  r.name = node.name;
  r.id = node.id;
  r.type = types[static_cast<size_t>(node.type)].name;
  r.phase = elastic::PhaseName(node.phase);
  r.requested_ms = ToMillis(node.requested);
  r.ready_ms = node.ready == Time{} ? 0 : ToMillis(node.ready);
  r.gone_ms = node.phase == elastic::Phase::kGone ? ToMillis(node.gone) : 0;
  r.failed = node.failed;
  r.reason = node.reason;
  return r;
}

std::optional<elastic::PoolNode> FromPoolRow(const state::PoolRow& row,
                                             const std::vector<autoscaler::NodeType>& types,
                                             Time now) {
  auto phase = elastic::ParsePhase(row.phase);
  if (!phase || *phase == elastic::Phase::kGone) return std::nullopt;
  int type = -1;
  for (size_t i = 0; i < types.size(); ++i)
    if (types[i].name == row.type) type = static_cast<int>(i);
  elastic::PoolNode n;
  n.id = row.id;
  n.name = row.name;
  n.type = type < 0 ? 0 : type;
  n.phase = type < 0 ? elastic::Phase::kFailed : *phase;
  n.requested = FromMillis(row.requested_ms);
  n.ready = FromMillis(row.ready_ms);
  n.idle_since = now;
  n.failed = row.failed || type < 0;
  n.reason = type < 0 ? "node type " + row.type + " is not configured any more" : row.reason;
  n.create_done = true;
  return n;
}

int RestorePool(const std::vector<state::PoolRow>& rows, elastic::Pool* pool, Time now) {
  int restored = 0;
  for (const auto& r : rows) {
    if (auto n = FromPoolRow(r, pool->types(), now)) {
      pool->Restore(std::move(*n));
      ++restored;
    } else {
      pool->Reserve(r.name, r.id);
    }
  }
  return restored;
}

}  // namespace swell::head
