// One local replica of a partition: its log, its role (leader or follower at a leader epoch), the
// leader's view of its followers, the idempotent producer state, and the observation events.
//
// Role changes come only from the replica manager's metadata task, one at a time and in metadata
// order. Produce, fetch and fetcher tasks run concurrently with them; every operation that can
// suspend (any log operation may wait for the disk) is followed by a re-check of `role_generation()`
// by the caller, so nothing computed under one role is applied under another.
//
// Events (docs/replication.md has the fields):
//   replica.open, replica.role, replica.append, replica.hw, replica.truncate, replica.isr,
//   replica.offline.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/metadata/image.hpp"
#include "broker/protocol/error_code.hpp"
#include "broker/replication/config.hpp"
#include "broker/replication/leader_state.hpp"
#include "broker/replication/producer_state.hpp"
#include "sim/fiber_sync.hpp"
#include "broker/storage/log.hpp"
#include "sim/env.hpp"

namespace seedlog::broker::replication {

// The node's task primitives (sim/fiber_sync.hpp).
using sim::FiberLock;
using sim::FiberMutex;
using sim::Signal;

enum class Role : uint8_t { none, leader, follower };
std::string_view to_string(Role r);

struct PartitionKey {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const PartitionKey&) const = default;
  std::string to_string() const;  // "orders-3"
};

// PartitionKey's order, also between a key and a (topic view, partition) pair: lookups on the hot
// paths (every partition of every Fetch) then need no std::string.
struct PartitionKeyLess {
  using is_transparent = void;
  using Ref = std::pair<std::string_view, int32_t>;
  static Ref ref(const PartitionKey& k) { return {k.topic, k.partition}; }
  static const Ref& ref(const Ref& r) { return r; }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const { return ref(a) < ref(b); }
};

// The outcome of a leader append, per Produce partition.
struct LeaderAppend {
  protocol::ErrorCode error = protocol::ErrorCode::none;
  Offset first_offset{-1};
  Offset last_offset{-1};
  bool duplicate = false;  // an idempotent retry answered with its original offsets
  uint64_t generation = 0; // the role generation the append happened in
};

// The waiting side of a PartitionWatch (below): each partition it watches marks its slot and wakes
// it on every change, so a long-polling fetch wakes only for its own partitions and re-reads only
// the ones that changed.
class FetchWaiter {
 public:
  FetchWaiter(sim::Scheduler& scheduler, size_t slots) : signal_(scheduler), dirty_(slots, 0) {}
  void mark(size_t slot) {
    SL_ASSERT(slot < dirty_.size());
    if (!dirty_[slot]) {
      dirty_[slot] = 1;
      changed_.push_back(slot);
    }
    signal_.notify();
  }
  bool any_changed() const { return !changed_.empty(); }
  // The slots changed since the last take, in the order they changed.
  std::vector<size_t> take() {
    for (size_t slot : changed_) dirty_[slot] = 0;
    return std::exchange(changed_, {});
  }
  bool wait_until(sim::Instant deadline) { return signal_.wait_until(deadline); }

 private:
  Signal signal_;
  std::vector<uint8_t> dirty_;
  std::vector<size_t> changed_;
};

// The process's reaction to a failed disk under a replica's log (ReplicaManagerHooks::storage_failed).
using StorageFailed = std::function<void(const std::string& why)>;

class Partition {
 public:
  // `roles_changed` (broker-wide) is notified when the role generation or the open state changes;
  // waiters on one partition's appends, HW or ISR watch it instead (watch, PartitionWatch), so a
  // change of one partition wakes only those who asked about it. `storage_failed` (may be empty;
  // outlives the partition) hears of every I/O failure.
  Partition(sim::Env& env, PartitionKey key, const ReplicationConfig& config, BrokerId self, Signal& roles_changed,
            const StorageFailed& storage_failed);
  ~Partition();
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  const PartitionKey& key() const { return key_; }
  Role role() const { return role_; }
  LeaderEpoch leader_epoch() const { return leader_epoch_; }
  BrokerId leader() const { return leader_; }
  // Incremented by every role change: a task that suspended compares it to see if its world moved.
  uint64_t role_generation() const { return generation_; }
  bool is_open() const { return log_ != nullptr; }
  // The log for reading; readers keep the reference across their read, so that a log closed
  // meanwhile (after an I/O error) stays alive until they are done with it.
  std::shared_ptr<storage::Log> log() const { return log_; }
  const LeaderState* leader_state() const { return leader_state_ ? &*leader_state_ : nullptr; }
  const ProducerStateTable& producers() const { return producers_; }
  int32_t min_insync() const { return min_insync_; }

  // Opens (and recovers) the log; emits replica.open. Safe to call when open.
  storage::Status open();
  // Drops the log (after an error took it offline, or the replica left); role becomes none.
  void close(std::string_view why);

  // ---- role changes (the metadata task) ------------------------------------------------------
  // Records the epoch at the LEO, rebuilds the producer state, starts a fresh LeaderState.
  storage::Status become_leader(const metadata::PartitionInfo& info);
  // Stops leading; with the follower-truncates-to-hw defect also truncates to the local HW.
  storage::Status become_follower(const metadata::PartitionInfo& info);
  void become_none(std::string_view why);
  // Same leader and epoch, new ISR/partition epoch from the metadata.
  void update_isr(const metadata::PartitionInfo& info);

  // ---- leader --------------------------------------------------------------------------------
  // Validates the producer sequences, appends as leader, records the batches. Holds the append lock.
  LeaderAppend append_as_leader(protocol::ByteView records);
  // A follower fetched at fetch_offset; updates its state and maybe the HW. Returns false when the
  // offset is beyond the log end (OFFSET_OUT_OF_RANGE).
  bool on_follower_fetch(BrokerId follower, Offset fetch_offset, BrokerEpoch broker_epoch);
  // Advances the HW if the ISR allows; returns whether it moved.
  bool maybe_advance_hw();
  // ISR change to propose now (and marks it pending), if any.
  std::optional<std::vector<BrokerId>> take_isr_proposal(const std::vector<BrokerId>& replicas,
                                                         const std::function<bool(BrokerId, BrokerEpoch)>& live);
  // The controller's answer to our proposal (stale answers are ignored), or its failure.
  void on_alter_partition_answer(const std::vector<BrokerId>& isr, PartitionEpoch partition_epoch);
  void on_alter_partition_failed();
  size_t isr_size_for_min_insync() const;

  // ---- follower (the fetcher) -----------------------------------------------------------------
  // Each step names the role generation the fetcher computed it under; a step whose generation is
  // no longer current is not applied (`stale`): the fetcher's world moved while it waited.
  struct Step {
    bool stale = false;
    storage::Status status;
  };
  // Appends fetched batches, then applies the leader's HW: min(leader HW, own LEO). The fetcher
  // only fetches once truncation has settled, so the HW is never applied before it.
  Step append_as_follower(uint64_t generation, protocol::ByteView records, Offset leader_hw);
  Step truncate_to(uint64_t generation, Offset offset, std::string_view reason);
  Step truncate_fully_and_start_at(uint64_t generation, Offset offset, std::string_view reason);

  // ---- both ------------------------------------------------------------------------------------
  // Long polls: `waiter` hears of every change of this partition as `slot` until unwatch.
  void watch(FetchWaiter& waiter, size_t slot) { watchers_.push_back({&waiter, slot}); }
  void unwatch(const FetchWaiter& waiter);
  Offset log_end() const;
  Offset high_watermark() const;
  Offset log_start() const;
  storage::Status checkpoint_hw();
  // Rebuilds the idempotent producer table by replaying the log.
  storage::Status rebuild_producer_state();
  // Flushes the log and checkpoints the HW (a test verb: "the OS wrote the page cache back").
  storage::Status flush();
  // The log's time-based flush policy (flush.ms), from the background flusher.
  storage::Status maybe_flush();

 private:
  void set_role(Role role, const metadata::PartitionInfo& info);
  void emit_role();
  void emit_appended(const std::vector<storage::BatchInfo>& batches, const std::vector<ProducerBatchHeader>& producers);
  void emit_hw(const HwCandidate* counted);
  void emit_isr();
  void on_log_error(const storage::LogError& error, std::string_view during);
  storage::Status truncate_locked(Offset offset, std::string_view reason);
  void apply_hw_locked(Offset hw);
  // Every change: wakes this partition's watchers, and the broker-wide roles signal when the role
  // generation or the open state moved since it was last notified.
  void notify_changed();
  void notify_roles_if_moved();

  sim::Env& env_;
  PartitionKey key_;
  const ReplicationConfig& config_;
  BrokerId self_;
  Signal& roles_changed_;
  uint64_t roles_notified_generation_ = 0;
  bool roles_notified_open_ = false;
  const StorageFailed& storage_failed_;
  std::string dir_;
  std::shared_ptr<storage::Log> log_;
  Role role_ = Role::none;
  BrokerId leader_{-1};
  LeaderEpoch leader_epoch_{-1};
  uint64_t generation_ = 0;
  bool hw_announced_ = false;  // a follower announces the first HW it applies in a role, even unchanged
  int32_t min_insync_ = 1;
  std::optional<LeaderState> leader_state_;
  ProducerStateTable producers_;
  FiberMutex append_lock_;
  std::vector<std::pair<FetchWaiter*, size_t>> watchers_;  // in the order they started watching
};

// A task waiting for changes of a few partitions (a long-polling fetch, a delayed produce, a
// coordinator's write or load): it wakes on their changes only, not on those of every partition of
// the broker. partitions[i] is watched as slot i, for the watch's whole life; a null entry is not
// watched. Partitions outlive it (ReplicaManager never erases one).
class PartitionWatch {
 public:
  PartitionWatch(sim::Scheduler& scheduler, std::vector<Partition*> partitions);
  ~PartitionWatch();
  PartitionWatch(const PartitionWatch&) = delete;
  PartitionWatch& operator=(const PartitionWatch&) = delete;
  bool any_changed() const { return waiter_.any_changed(); }
  // The slots changed since the last take, in the order they changed.
  std::vector<size_t> take() { return waiter_.take(); }
  // False when the deadline (a global instant) passed without a change of a watched partition.
  bool wait_until(sim::Instant deadline) { return waiter_.wait_until(deadline); }

 private:
  FetchWaiter waiter_;
  std::vector<Partition*> partitions_;
};

// The producer fields of every batch in `records` (one per batch, in order); nullopt when the
// records do not split into batches.
std::optional<std::vector<ProducerBatchHeader>> producer_headers(protocol::ByteView records);

}  // namespace seedlog::broker::replication
