// Partition assignors: what the group leader runs between JoinGroup and SyncGroup.
//
//   range               per topic, the members subscribed to it (sorted by member id) take
//                       consecutive ranges; the first (partitions % members) take one extra.
//   roundrobin          every subscribed partition (sorted by topic, partition) is dealt to the
//                       members in turn, skipping members not subscribed to its topic.
//   cooperative-sticky  balanced and sticky: each member keeps what it owns up to its quota, the
//                       rest is spread over the members with the fewest; and, KIP-429's
//                       incremental protocol, a partition that another member still owns is left
//                       out of this generation: its owner sees it missing, revokes it and
//                       rejoins, and the next rebalance hands it over. A partition never moves
//                       before its previous owner gave it up.
//
// Defect assignor-overlap (off by default): after assigning, the first partition of the first
// member that has one is also given to the next member, so two members of one generation own it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "broker/group/consumer_protocol.hpp"

namespace seedlog::broker::group {

enum class AssignorKind : uint8_t { range, roundrobin, cooperative_sticky };
std::string_view to_string(AssignorKind k);  // the protocol name in JoinGroup: "range", ...
std::optional<AssignorKind> parse_assignor(std::string_view name);
// Whether members keep their partitions across a rebalance (the incremental protocol).
bool is_cooperative(AssignorKind k);

// member id -> what it subscribes to (and owns, for cooperative-sticky).
using Subscriptions = std::map<std::string, Subscription>;
// topic -> partition count, for every topic some member subscribes to (unknown topics absent).
using PartitionCounts = std::map<std::string, int32_t>;
// member id -> assigned partitions; every member of the input has an entry.
using AssignmentMap = std::map<std::string, TopicPartitions>;

struct AssignOptions {
  bool overlap_defect = false;
};

AssignmentMap assign(AssignorKind kind, const PartitionCounts& partitions, const Subscriptions& members,
                     AssignOptions options = {});

}  // namespace seedlog::broker::group
