// Options of partition replication (Kafka's broker and topic configs, named after them), and the
// replication defects of the public defect catalog (KAFKA.md), all off by default.
//
// Contract: validate() throws ConfigError naming the field for any value replication cannot honour.
// Durations are node-clock durations; an option of Kafka's keeps Kafka's name in its comment.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/storage/config.hpp"
#include "sim/time.hpp"

namespace seedlog::broker::replication {

// Switchable re-creations of real replication bugs. Each is off by default; the scenarios that
// switch one on expect a checker to find the violation it causes (docs/replication.md).
struct ReplicationDefects {
  // KIP-101: a replica that becomes follower truncates to its local high watermark instead of the
  // divergence point found with OffsetForLeaderEpoch.
  bool follower_truncates_to_hw = false;
  // Jepsen 2013: min.insync.replicas is ignored (the HW advances and acks=all succeeds with the
  // leader alone in the ISR) and unclean leader election is allowed (the node turns the
  // controller's unclean_leader_election on as well).
  bool unclean_isr_of_one = false;
  // acks=all is answered as soon as the leader appended, before the HW passes the batch.
  bool acks_all_on_leader_append = false;
  // Redpanda issue 3039: a retried idempotent batch is answered OUT_OF_ORDER_SEQUENCE_NUMBER
  // instead of being recognised as a duplicate.
  bool no_producer_dedup = false;

  bool any() const { return follower_truncates_to_hw || unclean_isr_of_one || acks_all_on_leader_append || no_producer_dedup; }
  std::vector<std::string> names() const;
};
inline constexpr std::string_view kDefectFollowerTruncatesToHw = "follower-truncates-to-hw";
inline constexpr std::string_view kDefectUncleanIsrOfOne = "unclean-isr-of-one";
inline constexpr std::string_view kDefectAcksAllOnLeaderAppend = "acks-all-on-leader-append";
inline constexpr std::string_view kDefectNoProducerDedup = "no-producer-dedup";

struct ReplicationConfig {
  // min.insync.replicas (broker default), and per-topic overrides of it.
  int32_t min_insync_replicas = 1;
  std::map<std::string, int32_t, std::less<>> topic_min_insync_replicas;
  // replica.lag.time.max.ms (Kafka's default is 30 s; a shorter one suits scenarios).
  sim::Duration replica_lag_time_max = sim::Duration::s(10);
  // How often the leader looks for ISR changes (Kafka: half the lag time).
  sim::Duration isr_check_interval = sim::Duration::s(1);
  // replica.fetch.wait.max.ms, replica.fetch.min.bytes, replica.fetch.max.bytes,
  // replica.fetch.backoff.ms.
  sim::Duration fetch_max_wait = sim::Duration::ms(500);
  int32_t fetch_min_bytes = 1;
  int32_t fetch_max_bytes = 10 << 20;
  int32_t fetch_partition_max_bytes = 1 << 20;
  sim::Duration fetch_backoff = sim::Duration::ms(500);
  // The leader's fetch session cache (KIP-227, fetch_session.hpp):
  // max.incremental.fetch.session.cache.slots, and how long a session may sit idle before any new
  // session may evict it. Followers use sessions unless fetch_sessions is off.
  size_t fetch_session_cache_slots = 1000;
  sim::Duration fetch_session_eviction_idle = sim::Duration::s(120);
  bool fetch_sessions = true;
  // Inter-broker requests (Fetch waits fetch_max_wait on top), AlterPartition to the controller.
  sim::Duration request_timeout = sim::Duration::s(5);
  // replica.high.watermark.checkpoint.interval.ms.
  sim::Duration hw_checkpoint_interval = sim::Duration::s(5);
  // How often the flush policy (flush.ms) is checked; the policy itself is in `log`.
  sim::Duration flush_check_interval = sim::Duration::s(1);
  // A partition's directory is <data_dir>/<topic>-<partition>.
  std::string data_dir = "data";
  // The options of every partition log (segment size, flush policy, storage defects).
  storage::LogConfig log;
  // The idempotent producer state keeps this many batches per producer id (Kafka: 5).
  size_t producer_batches_kept = 5;
  ReplicationDefects defects;

  int32_t min_insync_for(std::string_view topic) const;
  void validate() const;  // throws ConfigError naming the field
  std::vector<std::pair<std::string, std::string>> describe() const;
};

}  // namespace seedlog::broker::replication
