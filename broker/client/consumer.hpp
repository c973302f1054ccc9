// The consumer client, assign() mode (KAFKA.md "Replication", "Consumer groups"; KIP-320).
//
// The user assigns partitions and calls poll() from a task of its node. poll() keeps, per assigned
// partition, a position: the offset of the next record to return and the leader epoch of the last
// record returned. It fetches with Fetch v11 from each partition's leader, one request per broker
// carrying every assigned partition that broker leads, each with the leader's current epoch
// (fetch.max.bytes, max.partition.fetch.bytes, fetch.min.bytes, fetch.max.wait.ms). The broker
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
// For a group membership client (the hook): assign() replaces the assignment and keeps the
// positions of partitions that stay; positions() reads them for an OffsetCommit; seek() with a
// Position sets a start from a committed offset (with its epoch, which is then validated).
//
// History: with a recorder, every poll is an invoke/ok pair of Jepsen's `poll` whose value lists
// the records it returned per partition ("topic-p" keys); assign() records an `assign` op, and a
// seek puts the partition in the next poll's rebalance log (a deliberate jump is not a skip). A
// reset after a truncation is not excused: the checkers see the consumer go back.
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

#include "broker/net/rpc.hpp"
#include "broker/protocol/record_batch.hpp"

namespace seedlog::model {
class Recorder;
}

namespace seedlog::broker::client {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
  std::string to_string() const;  // "topic-p"
};

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
  size_t max_poll_records = 500;
  sim::Duration request_timeout = sim::Duration::s(30);
  sim::Duration retry_backoff = sim::Duration::ms(100);
  sim::Duration metadata_max_age = sim::Duration::s(300);

  // History (optional): the recorder outlives the consumer; `process` is this consumer's Jepsen
  // process. Record values must be decimal integers (the model's values): others are not recorded
  // and counted in Consumer::unrecordable().
  model::Recorder* recorder = nullptr;
  int64_t process = 0;

  void validate() const;  // throws ConfigError naming the field
};

// Where a partition is: the next offset to return, and the leader epoch of the record before it
// (none when the position came from a seek or a ListOffsets, which do not know it).
struct Position {
  protocol::Offset offset{0};
  std::optional<protocol::LeaderEpoch> epoch;
  bool operator==(const Position&) const = default;
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
  uint64_t validations = 0;  // positions confirmed by OffsetForLeaderEpoch
  uint64_t truncations = 0;
  uint64_t resets = 0;       // positions set by ListOffsets
  uint64_t leader_changes = 0;
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
  std::map<TopicPartition, Position> positions() const;

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
