// Group coordinator options (Kafka's names in comments). Durations are simulated time.
#pragma once

#include <cstdint>
#include <string_view>

#include "sim/time.hpp"

namespace seedlog::broker::group {

inline constexpr const char* kOffsetsTopic = "__consumer_offsets";

inline constexpr std::string_view kDefectCommitFromStaleGeneration = "commit-from-stale-generation";
inline constexpr std::string_view kDefectAssignorOverlap = "assignor-overlap";  // a client-side switch

struct GroupDefects {
  // commit-from-stale-generation: OffsetCommit is accepted whatever its generation and member id,
  // so a zombie member that was evicted moves a partition's committed offset.
  bool commit_from_stale_generation = false;
};

struct GroupConfig {
  int32_t offsets_partitions = 8;                                // offsets.topic.num.partitions (Kafka: 50)
  int16_t offsets_replication_factor = 3;                        // offsets.topic.replication.factor: created once this many brokers are alive
  sim::Duration initial_rebalance_delay = sim::Duration::ms(300);  // group.initial.rebalance.delay.ms
  sim::Duration min_session_timeout = sim::Duration::ms(100);    // group.min.session.timeout.ms
  sim::Duration max_session_timeout = sim::Duration::s(300);     // group.max.session.timeout.ms
  sim::Duration tick = sim::Duration::ms(50);                    // how often deadlines are checked
  sim::Duration write_timeout = sim::Duration::s(5);             // offsets.commit.timeout.ms
  GroupDefects defects;
};

}  // namespace seedlog::broker::group
