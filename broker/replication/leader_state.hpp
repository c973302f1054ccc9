// What the leader of a partition knows about its followers during one leader epoch, and the
// decisions made from it: the high watermark and ISR changes (KAFKA.md "Replication").
//
// A LeaderState lives for exactly one leader epoch: becoming leader (again, or at a bumped epoch)
// starts a new one, so every follower position it holds was reported by a fetch carrying the
// current leader epoch.
//
// Rules:
//   - HW: the minimum log end offset over the effective ISR (the committed ISR, united with the
//     proposed one while an AlterPartition is pending), the leader's own LEO included. A member
//     that has not fetched in this epoch blocks the advance (its position is unknown). Nothing
//     advances while the ISR is smaller than min.insync.replicas; during a pending change the
//     smaller of the two ISRs is what counts. The caller keeps the HW from ever going down.
//   - Caught up: a follower is caught up at a fetch that reaches the leader's LEO, and also, at a
//     fetch that reaches the LEO the leader had at the follower's previous fetch, as of that previous
//     fetch (Kafka's lastCaughtUpTimeMs). Becoming leader counts as a catch-up for everyone, so
//     the new leader gives its followers one lag period.
//   - Shrink: a member other than the leader that has not been caught up for replica.lag.time.max.
//   - Expand: a replica outside the ISR whose LEO has reached the HW and the start offset of this
//     leader epoch, that fetched in this epoch, and that the metadata shows as a live broker with
//     the broker epoch it fetched with.
//   - Pending: at most one proposal at a time. It ends when the controller answers or when the
//     metadata shows a partition epoch newer than the one the proposal was made against.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/protocol/types.hpp"
#include "sim/time.hpp"

namespace seedlog::broker::replication {

using protocol::BrokerEpoch;
using protocol::BrokerId;
using protocol::LeaderEpoch;
using protocol::Offset;
using protocol::PartitionEpoch;

struct FollowerState {
  bool fetched = false;                 // has fetched in this leader epoch
  Offset log_end{-1};                   // the fetch offset of its latest fetch
  BrokerEpoch broker_epoch{-1};         // the broker epoch its fetches carried
  sim::Instant last_caught_up;
  sim::Instant last_fetch;
  Offset leader_end_at_last_fetch{-1};
};

struct PendingIsr {
  std::vector<BrokerId> proposed;
  PartitionEpoch against{-1};           // the partition epoch the proposal was computed from
};

struct HwCandidate {
  std::optional<Offset> hw;             // nullopt: blocked (see why)
  std::vector<BrokerId> counted;        // the members whose LEOs were taken
  std::vector<BrokerEpoch> counted_epochs;  // their broker epochs (-1 for the leader itself)
  std::string why;                      // when blocked
};

class LeaderState {
 public:
  LeaderState(BrokerId self, LeaderEpoch epoch, Offset epoch_start, std::vector<BrokerId> isr, PartitionEpoch partition_epoch,
              sim::Instant now);

  BrokerId self() const { return self_; }
  LeaderEpoch epoch() const { return epoch_; }
  Offset epoch_start() const { return epoch_start_; }
  const std::vector<BrokerId>& isr() const { return isr_; }
  PartitionEpoch partition_epoch() const { return partition_epoch_; }
  const std::optional<PendingIsr>& pending() const { return pending_; }
  const std::map<int32_t, FollowerState>& followers() const { return followers_; }
  const FollowerState* follower(BrokerId id) const;

  // A follower's fetch at `fetch_offset` (its LEO), REQUIRES fetch_offset <= leader_end.
  void on_fetch(BrokerId follower, Offset fetch_offset, BrokerEpoch broker_epoch, Offset leader_end, sim::Instant now);
  // Forgets a follower's position (a new incarnation of it, or it left the replicas).
  void forget(BrokerId follower) { followers_.erase(follower.value()); }

  // The committed ISR and the pending one, united (what the HW counts).
  std::vector<BrokerId> effective_isr() const;
  // The ISR size min.insync.replicas is compared with: the smaller of committed and proposed.
  size_t isr_size_for_min_insync() const;
  HwCandidate hw_candidate(Offset leader_end, int32_t min_insync, bool ignore_min_insync) const;

  // The ISR to propose now, if any change is due. `live` says whether the metadata shows a replica
  // as a registered, unfenced broker with that broker epoch.
  std::optional<std::vector<BrokerId>> isr_proposal(const std::vector<BrokerId>& replicas, Offset hw, sim::Instant now,
                                                     sim::Duration lag_time_max,
                                                     const std::function<bool(BrokerId, BrokerEpoch)>& live) const;
  void set_pending(std::vector<BrokerId> proposed);
  void clear_pending() { pending_.reset(); }
  // A committed ISR (from the metadata or the controller's answer). Stale ones (not newer than what
  // is known) are ignored; returns whether it applied.
  bool apply_committed(const std::vector<BrokerId>& isr, PartitionEpoch partition_epoch);

 private:
  bool caught_up_enough(const FollowerState& f, Offset hw) const;

  BrokerId self_;
  LeaderEpoch epoch_;
  Offset epoch_start_;
  std::vector<BrokerId> isr_;
  PartitionEpoch partition_epoch_;
  sim::Instant became_leader_at_;
  std::optional<PendingIsr> pending_;
  std::map<int32_t, FollowerState> followers_;
};

}  // namespace seedlog::broker::replication
