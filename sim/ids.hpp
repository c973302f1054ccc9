// Ids of simulated entities.
#pragma once

#include <cstdint>

#include "sim/strong.hpp"

namespace seedlog::sim {

using NodeId = Strong<struct NodeIdTag, uint32_t>;
using TaskId = Strong<struct TaskIdTag, uint64_t>;
using Port = uint16_t;

// Tasks that belong to no node (test drivers, workload controllers) report this node id.
inline constexpr NodeId kNoNode{UINT32_MAX};

}  // namespace seedlog::sim
