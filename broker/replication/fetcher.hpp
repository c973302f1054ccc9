// The follower side of replication: one fetcher task per source broker, serving every local
// follower replica that broker leads (Kafka's ReplicaFetcherThread; one connection each).
//
// A followed partition is first `truncating`: the fetcher asks the leader, with OffsetForLeaderEpoch
// v3, where the follower's latest epoch ends on the leader. The answer carries the epoch it belongs
// to (the leader's largest epoch not above the one asked). If the follower has that epoch too, the
// divergence point is the smaller of the two end offsets and the follower truncates there; if not,
// it truncates to where its own largest epoch below the answer ends and asks again about that epoch
// (KIP-279), until both agree on an epoch. Then it fetches (Fetch v11, current leader epoch, from its
// LEO), appends what it gets, and applies the leader's HW (min with its own LEO) after each append,
// so no HW from the leader is ever applied before truncation has settled. OFFSET_OUT_OF_RANGE or a
// batch that does not continue the log sends the partition back to truncating (or, below the
// leader's log start, restarts the log there). Errors back off for fetch_backoff; fencing errors wait
// for the metadata, which re-resolves the leader and moves the partition to another fetcher.
//
// Fetch sessions (KIP-227, fetch_session.hpp): with replication.fetch_sessions on, the first fetch
// is full and opens a session; later ones are incremental: they name only partitions whose fetch
// position or epoch changed, forget the partitions no longer fetched (truncating, backing off,
// removed), and get answers only for partitions with something new. Any doubt falls back to a full
// fetch that opens a new session: a failed or timed-out request, FETCH_SESSION_ID_NOT_FOUND (the
// leader restarted or evicted the session), INVALID_FETCH_SESSION_EPOCH, a partition handed over
// (a new role generation: the leader must answer it in full once), or an answer discarded because
// the log moved meanwhile (the leader believes it delivered that HW).
//
// With the follower-truncates-to-hw defect the truncation phase is skipped: become_follower already
// truncated to the local HW (Partition::become_follower).
#pragma once

#include <map>
#include <memory>
#include <optional>

#include "broker/replication/partition.hpp"
#include "broker/replication/replica_manager.hpp"

namespace seedlog::broker::replication {

struct FollowedPartition {
  Partition* partition = nullptr;
  uint64_t generation = 0;        // the partition's role generation when it was handed over
  LeaderEpoch leader_epoch{-1};
  bool truncating = true;
  LeaderEpoch query_epoch{-1};    // the epoch the next OffsetForLeaderEpoch asks about
  int truncation_rounds = 0;
  sim::Instant retry_at;          // backoff after an error
};

class Fetcher;

class FetcherManager {
 public:
  FetcherManager(sim::Env& env, ReplicaManager& manager, const ReplicaManagerHooks& hooks);
  ~FetcherManager();
  FetcherManager(const FetcherManager&) = delete;
  FetcherManager& operator=(const FetcherManager&) = delete;

  // Hands a follower replica to the fetcher of `leader` (starting that fetcher if needed).
  void add(Partition& partition, BrokerId leader);
  void remove(const PartitionKey& key);
  size_t fetcher_count() const { return fetchers_.size(); }

 private:
  sim::Env& env_;
  ReplicaManager& manager_;
  const ReplicaManagerHooks& hooks_;
  std::map<int32_t, std::shared_ptr<Fetcher>> fetchers_;  // by source broker
};

}  // namespace seedlog::broker::replication
