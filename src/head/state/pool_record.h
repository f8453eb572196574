#pragma once

// An elastic node's pool record (elastic::PoolNode) as the store keeps it (state::PoolRow),
// and back at start. Pure.

#include <optional>
#include <vector>

#include "common/clock.h"
#include "head/autoscaler/autoscaler.h"
#include "head/elastic/pool.h"
#include "head/state/store.h"

namespace swell::head {

state::PoolRow ToPoolRow(const elastic::PoolNode& node,
                         const std::vector<autoscaler::NodeType>& types);

// The record to restore into the pool at `now`, nullopt for history (a gone node, or a phase
// this version does not know). A node whose type left the configuration comes back failed,
// to be deleted as soon as the pool can.
std::optional<elastic::PoolNode> FromPoolRow(const state::PoolRow& row,
                                             const std::vector<autoscaler::NodeType>& types,
                                             Time now);

// Puts the live nodes of `rows` back into `pool` at `now` (FromPoolRow) and keeps the names
// and ids of the gone ones from being given again; returns how many nodes came back.
int RestorePool(const std::vector<state::PoolRow>& rows, elastic::Pool* pool, Time now);

}  // namespace swell::head
