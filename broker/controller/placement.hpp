// Pure decisions of the controller, kept apart so they can be tested without a cluster: where a
// new partition's replicas go, and who leads a partition after a change.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <vector>

#include "broker/metadata/image.hpp"

namespace seedlog::broker::controller {

using metadata::BrokerId;

// Replica lists for `partitions` new partitions, numbered from `first_partition`: round-robin over
// the usable brokers (sorted by id), starting at `start` (a seeded draw, so clusters differ) and
// alternating racks when brokers have them, as Kafka's rack-aware assignment does. Each list has
// `replication_factor` distinct brokers. REQUIRES: 0 < replication_factor <= usable.size().
std::vector<std::vector<BrokerId>> assign_replicas(const std::vector<metadata::BrokerInfo>& usable, int32_t partitions,
                                                   int32_t first_partition, int16_t replication_factor, uint64_t start);

struct Election {
  BrokerId leader = metadata::kNoLeader;
  std::vector<BrokerId> isr;
  bool unclean = false;
};

// The leader of a partition some of whose replicas can no longer serve (fenced, shutting down):
// the current leader if it is alive and stays in the ISR; else the first replica, in replica order,
// that is in the ISR and alive; otherwise, if unclean
// elections are allowed, the first alive replica, alone in the ISR; otherwise no leader. The ISR
// loses the gone brokers except that it never becomes empty: its last member stays (so the
// partition remembers who holds its committed data).
Election elect(const metadata::PartitionInfo& p, const std::function<bool(BrokerId)>& alive, bool allow_unclean);

// The ISR without `gone`, keeping the last member if everyone is gone.
std::vector<BrokerId> shrink_isr(const std::vector<BrokerId>& isr, const std::set<BrokerId>& gone);

}  // namespace seedlog::broker::controller
