// The consumer client, assign() and subscribe() modes (KAFKA.md "Replication", "Consumer groups";
// KIP-320).
//
// The user assigns partitions (or subscribes to topics, below) and calls poll() from a task of its
// node. poll() keeps, per assigned
// partition, a position: the offset of the next record to return and the leader epoch of the last
// record returned. It fetches with Fetch v11 from each partition's leader, one request per broker
// carrying every assigned partition that broker leads, each with the leader's current epoch
// (fetch.max.bytes, max.partition.fetch.bytes, fetch.min.bytes, fetch.max.wait.ms), in an
// incremental fetch session per broker (KIP-227, fetch_session_handler.hpp) unless
// fetch_sessions is off: after the first full fetch only changed partitions are named. The broker
// returns whole batches below the high watermark; a batch may start before the fetch offset (the
// consumer drops the records before its position) and the last one may be cut (dropped, fetched
// again).
//
// Leader changes (KIP-320). Metadata v7 names each partition's leader and leader epoch; the
// consumer sends that epoch with every Fetch and OffsetForLeaderEpoch. After
// NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, or a metadata refresh naming
// another leader or epoch, a position that carries an epoch is validated before fetching again:
// OffsetForLeaderEpoch(position epoch) tells where that epoch ends on the new leader. If it ends below the position, the log was truncated under the
// consumer: this is reported (PollResult::truncations, the `consumer.truncation` event), never
// skipped silently; then the position moves to the divergent offset, or, with
// auto_offset_reset = none, the partition stops with a log_truncation error until the user seeks.
//
// Positions without a start (a fresh assignment, OFFSET_OUT_OF_RANGE) follow auto_offset_reset:
// earliest / latest via ListOffsets v2, none reports no_offset / offset_out_of_range.
//
// Subscribe mode (group_id set): subscribe(topics, listener) makes the consumer a member of the
// group through an owned GroupMember (group_member.hpp), whose task joins, syncs and heartbeats.
//   - Assigned partitions are applied in poll(): they join the assignment, their committed offsets
//     are fetched (OffsetFetch) and sought to with their leader epoch (validated, KIP-320), or
//     auto_offset_reset decides when none was committed; on_partitions_assigned runs once every
//     new partition has a position (or has failed).
//   - Revoked partitions: on the member's task, at the moment the protocol gives them up (before
//     JoinGroup for eager assignors, after SyncGroup for cooperative-sticky): first, with
//     auto-commit, their positions are committed synchronously; then on_partitions_revoked runs
//     (it may commit_sync()); then they leave the assignment. poll() returns nothing from them
//     once the revocation started.
//   - Lost partitions (fenced, or the session ran out): on_partitions_lost (or, when unset,
//     on_partitions_revoked), no commit: the generation is gone and the coordinator would refuse it.
//   - Auto-commit: every poll() first commits (async) the positions of every assigned partition
//     when auto_commit_interval has passed since the last one. A position covers only records that
//     earlier polls returned, so a crash between a poll and the next commit redelivers those
//     records to the next owner: at-least-once, duplicates possible, nothing skipped.
//   - close(): revokes everything (auto-commit sync, then the listener), sends LeaveGroup (the
//     partitions move at once, not after a session timeout) and stops the member.
// subscribe() and assign() exclude each other (illegal_state) until close().
//
// History: with a recorder, every poll is an invoke/ok pair of Jepsen's `poll` whose value lists
// the records it returned per partition ("topic-p" keys); assign() records an `assign` op, and a
// seek puts the partition in the next poll's rebalance log (a deliberate jump is not a skip). A
// reset after a truncation is not excused: the checkers see the consumer go back. In subscribe
// mode, subscribe() records a `subscribe` op (keys: the topics), every poll carries the group id
// (the durability check is per group), and a poll's rebalance log names every partition that
// joined or left the assignment since the previous poll completed (a rebalance may move the
// position anywhere the committed offset says: not a skip for that process). Commits are not ops
// of the history: an async commit runs beside the process's poll, and Jepsen processes have one
// operation at a time; the coordinator's group.commit.* events carry them (group_invariants.hpp).
//
// Not thread-safe, blocking: call every method from tasks of the node the consumer was made on.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "broker/client/group_member.hpp"
#include "broker/net/rpc.hpp"
#include "broker/protocol/record_batch.hpp"

namespace seedlog::model {
class Recorder;
}

namespace seedlog::broker::client {

enum class OffsetReset : uint8_t { earliest, latest, none };
std::string_view to_string(OffsetReset r);

struct ConsumerConfig {
  std::vector<sim::NodeId> bootstrap;
  sim::Port port = 9092;
  std::string client_id = "consumer";
  OffsetReset auto_offset_reset = OffsetReset::latest;
  int32_t fetch_max_bytes = 50 * 1024 * 1024;       // fetch.max.bytes, per request
  int32_t max_partition_fetch_bytes = 1024 * 1024;  // max.partition.fetch.bytes
  int32_t fetch_min_bytes = 1;                      // fetch.min.bytes
  sim::Duration fetch_max_wait = sim::Duration::ms(500);  // fetch.max.wait.ms
  bool fetch_sessions = true;                             // KIP-227 sessions; false: full fetches
  size_t max_poll_records = 500;
  sim::Duration request_timeout = sim::Duration::s(30);
  sim::Duration retry_backoff = sim::Duration::ms(100);
  sim::Duration metadata_max_age = sim::Duration::s(300);

  // History (optional): the recorder outlives the consumer; `process` is this consumer's Jepsen
  // process. Record values must be decimal integers (the model's values): others are not recorded
  // and counted in Consumer::unrecordable().
  model::Recorder* recorder = nullptr;
  int64_t process = 0;

  // Group management (subscribe mode, and commits). Without a group_id the consumer can only
  // assign(); the other fields are checked but unused.
  std::string group_id;                                    // group.id
  group::AssignorKind assignor = group::AssignorKind::range;  // partition.assignment.strategy
  sim::Duration session_timeout = sim::Duration::s(10);    // session.timeout.ms
  sim::Duration rebalance_timeout = sim::Duration::s(10);  // max.poll.interval.ms's role
  sim::Duration heartbeat_interval = sim::Duration::s(1);  // heartbeat.interval.ms, < session_timeout
  bool enable_auto_commit = true;                          // enable.auto.commit (group mode only)
  sim::Duration auto_commit_interval = sim::Duration::s(5);  // auto.commit.interval.ms
  // The assignor-overlap defect (off by default): this member's assignor, when it leads the
  // group, hands one partition to two members (broker/group/assignors.hpp).
  bool assignor_overlap_defect = false;

  void validate() const;  // throws ConfigError naming the field
  void validate_group() const;
};

struct ConsumerRecord {
  std::string topic;
  int32_t partition = 0;
  protocol::Offset offset{0};
  protocol::LeaderEpoch leader_epoch{-1};  // the epoch of the leader that wrote its batch
  int64_t timestamp_ms = 0;
  std::optional<protocol::Bytes> key;
  std::optional<protocol::Bytes> value;
};

struct ConsumerError {
  enum class Kind : uint8_t {
    invalid_argument,     // a negative offset, an empty topic, a duplicate partition
    not_assigned,         // the partition is not in the assignment
    unknown_partition,    // the metadata has no such topic or partition
    no_offset,            // no position yet, and auto_offset_reset = none (or poll first)
    offset_out_of_range,  // the position is outside the log, and auto_offset_reset = none
    log_truncation,       // the log was truncated below the position, and auto_offset_reset = none
    broker_error,         // any other error the broker answered for the partition
    no_group,             // subscribe (or commit) without a group_id
    illegal_state,        // subscribe while assigned, assign while subscribed, or after close()
  };
  Kind kind = Kind::broker_error;
  TopicPartition partition;
  protocol::ErrorCode code = protocol::ErrorCode::none;
  std::string detail;
  std::string to_string() const;
};
std::string_view to_string(ConsumerError::Kind k);

// A value or a ConsumerError.
template <class T>
class [[nodiscard]] ConsumerResult {
 public:
  ConsumerResult(T value) : v_(std::move(value)) {}              // NOLINT: implicit on purpose
  ConsumerResult(ConsumerError error) : v_(std::move(error)) {}  // NOLINT: implicit on purpose
  bool ok() const { return std::holds_alternative<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  const T* operator->() const { return &value(); }
  const ConsumerError& error() const { return std::get<ConsumerError>(v_); }

 private:
  std::variant<T, ConsumerError> v_;
};

// The consumer found that the log lost records it had already returned (KIP-320).
struct LogTruncation {
  TopicPartition partition;
  Position position;                               // where the consumer was
  std::optional<protocol::Offset> divergent_offset;  // where the leader's log diverges; none: unknown
  std::optional<protocol::LeaderEpoch> divergent_epoch;
  bool reset = false;  // the consumer moved to the divergent offset (else it stopped: log_truncation)
};

struct PollResult {
  std::vector<ConsumerRecord> records;  // per partition in offset order
  std::vector<ConsumerError> errors;    // partitions that cannot make progress (repeated each poll)
  std::vector<LogTruncation> truncations;
};

// Counters, for tests and reports.
struct ConsumerStats {
  uint64_t polls = 0;
  uint64_t records = 0;
  uint64_t fetches = 0;
  uint64_t fetch_sessions_opened = 0;
  uint64_t fetch_session_errors = 0;  // FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH
  uint64_t validations = 0;  // positions confirmed by OffsetForLeaderEpoch
  uint64_t truncations = 0;
  uint64_t resets = 0;       // positions set by ListOffsets
  uint64_t leader_changes = 0;
  uint64_t auto_commits = 0;  // async commits sent by poll() on the interval
  uint64_t rebalances = 0;    // assignment changes applied (assigned, revoked or lost)
};

class Consumer {
 public:
  Consumer(sim::Env& env, ConsumerConfig config);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Replaces the assignment. Partitions that stay keep their positions; new ones start without a
  // position (auto_offset_reset or a seek decides). Refuses (and changes nothing) on an empty
  // topic, a negative partition or a duplicate.
  std::optional<ConsumerError> assign(const std::vector<TopicPartition>& partitions);
  std::vector<TopicPartition> assignment() const;

  // Joins the group `group_id` for `topics` (sorted, no duplicates, none empty); a second call
  // replaces the subscription and the listener. Nothing happens on the network until the member's
  // task runs; assignments arrive through poll(). Errors: no_group, illegal_state (assigned, or
  // closed), invalid_argument (no topic, an empty name).
  std::optional<ConsumerError> subscribe(std::vector<std::string> topics, RebalanceListener listener = {});
  std::vector<std::string> subscription() const;
  // The member's generation (-1 outside one) and member id ("" before the first join).
  protocol::GenerationId generation() const;
  std::string member_id() const;

  // Commits every position (what positions() returns) or the given ones, with their leader
  // epochs, for the current generation. Blocks the caller (commit_sync) or completes `done` on a
  // task of the node (commit_async; may be empty). Without a group_id: INVALID_GROUP_ID, nothing
  // sent. In subscribe mode before the first join the coordinator fences the commit.
  CommitResult commit_sync();
  CommitResult commit_sync(const PositionMap& offsets);
  void commit_async(std::function<void(const CommitResult&)> done = {});
  void commit_async(const PositionMap& offsets, std::function<void(const CommitResult&)> done = {});
  // The group's committed offsets (with epochs) of `partitions`; absent: none committed. nullopt
  // without a group_id or when no coordinator answered. Blocks the caller.
  std::optional<PositionMap> committed(const std::vector<TopicPartition>& partitions);

  // Subscribe mode: revokes everything (auto-commit sync, then the listener), sends LeaveGroup and
  // stops the member. Then (both modes) the consumer returns nothing more. Blocks the caller;
  // idempotent.
  void close();

  // Waits up to `timeout` for records; returns as soon as some are ready, or an error is.
  PollResult poll(sim::Duration timeout);

  // The next record poll() returns for the partition is at `offset`.
  std::optional<ConsumerError> seek(const TopicPartition& tp, protocol::Offset offset);
  // The same with the epoch of the record before it (a committed offset and its leader epoch):
  // the position is validated against the leader before fetching from it.
  std::optional<ConsumerError> seek(const TopicPartition& tp, Position position);
  std::optional<ConsumerError> seek_to_beginning(const TopicPartition& tp);
  std::optional<ConsumerError> seek_to_end(const TopicPartition& tp);

  ConsumerResult<Position> position(const TopicPartition& tp) const;
  // Every assigned partition that has a position (what a group member commits).
  PositionMap positions() const;

  std::optional<ConsumerError> pause(const TopicPartition& tp);
  std::optional<ConsumerError> resume(const TopicPartition& tp);

  // Records not recorded in the history because their value is not a decimal integer.
  uint64_t unrecordable() const;
  ConsumerStats stats() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;  // shared with in-flight fetch tasks, which may outlive us briefly
};

}  // namespace seedlog::broker::client
