// The producer client (KAFKA.md "Producer").
//
// send() puts a record into its partition's open batch (murmur2 of the key, or the sticky partition
// for a null key, or a custom partitioner) and returns a future, or, like Kafka's
// send(record, callback), calls a callback with the outcome: a workload with many records in flight
// then needs no task waiting on each one. A sender task drains batches that
// are full (batch_size_bytes) or old enough (linger), groups them by partition leader into Produce
// requests (acks, compression), keeps at most max_in_flight requests per broker, and handles the
// answers: success completes each record with its offset; retriable errors (not leader, not enough
// replicas, timeouts, disconnects) refresh metadata and retry after retry_backoff, keeping batch
// order per partition; after delivery_timeout, or on a non-retriable error, records fail.
//
// Outcomes are exact about what the client knows: `ok` with the offset; `failed` when no attempt
// can have been written (every answer said so); `unknown` when an attempt may have been written
// (a timeout, a broken connection, NOT_ENOUGH_REPLICAS_AFTER_APPEND) and none was acknowledged.
// With acks=0 nothing is acknowledged: records complete `unknown` once sent.
//
// Idempotence (enable_idempotence): a producer id from InitProducerId, per-partition sequence
// numbers assigned when a batch is first sent and kept across retries, so the broker can answer a
// retry with the original offsets. An OUT_OF_ORDER_SEQUENCE_NUMBER answer makes the producer take a
// new producer id and resend with fresh sequences (the client-side reset of Redpanda issue 3039: a
// broker that fails to recognise a retry then stores the batch twice). Batches of other partitions
// that an earlier attempt may have written are not resent under the new id (that would store them
// twice with no broker at fault): they complete `unknown`.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "broker/net/rpc.hpp"
#include "broker/protocol/record_batch.hpp"
#include "sim/sync.hpp"

namespace seedlog::broker::client {

struct ProducerConfig {
  std::vector<sim::NodeId> bootstrap;
  sim::Port port = 9092;
  std::string client_id = "producer";
  int16_t acks = -1;  // 0, 1, or -1 (all)
  sim::Duration linger = sim::Duration::ms(5);
  size_t batch_size_bytes = 16384;
  protocol::Compression compression = protocol::Compression::none;
  sim::Duration retry_backoff = sim::Duration::ms(100);
  sim::Duration request_timeout = sim::Duration::s(30);
  sim::Duration delivery_timeout = sim::Duration::s(120);
  int max_in_flight = 5;  // per broker connection
  bool enable_idempotence = true;
  sim::Duration metadata_max_age = sim::Duration::s(300);
  // Custom partitioner: (topic, key, partition count) -> partition. Default: Kafka's.
  std::function<int32_t(const std::string&, const std::optional<protocol::Bytes>&, int32_t)> partitioner;

  void validate() const;  // throws ConfigError naming the field
};

struct SendResult {
  enum class Outcome : uint8_t { ok, failed, unknown };
  Outcome outcome = Outcome::unknown;
  std::string topic;
  int32_t partition = -1;
  protocol::Offset offset{-1};  // ok with acks != 0
  protocol::ErrorCode error = protocol::ErrorCode::none;
  std::string detail;
};
std::string_view to_string(SendResult::Outcome o);

class Producer {
 public:
  Producer(sim::Env& env, ProducerConfig config);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  sim::Future<SendResult> send(const std::string& topic, std::optional<protocol::Bytes> key,
                               std::optional<protocol::Bytes> value, std::vector<protocol::RecordHeader> headers = {});
  // Called once with the record's outcome, from the producer's own task (as Kafka runs callbacks
  // on its I/O thread) after the producer's state is updated, or from send() itself when the topic
  // never appeared in the metadata. It must not suspend. Either form of send suspends while the
  // topic's partitions are unknown, up to the delivery timeout (Kafka's max.block.ms). A record
  // still pending when the producer is destroyed is never called back (the future form reports it
  // as cancelled).
  using SendCallback = std::function<void(const SendResult&)>;
  void send(const std::string& topic, std::optional<protocol::Bytes> key, std::optional<protocol::Bytes> value,
            SendCallback done, std::vector<protocol::RecordHeader> headers = {});
  // Sends every open batch now and waits until nothing is pending, or the timeout.
  bool flush(sim::Duration timeout);
  // Records sent and not yet completed.
  size_t pending() const;

  struct Batch;
  struct Partition;
  struct Impl;

 private:
  using Completion = std::variant<sim::Promise<SendResult>, SendCallback>;
  void enqueue(const std::string& topic, std::optional<protocol::Bytes> key, std::optional<protocol::Bytes> value,
               std::vector<protocol::RecordHeader> headers, Completion completion);

  std::shared_ptr<Impl> impl_;  // shared with the sender's tasks, which may briefly outlive us
};

}  // namespace seedlog::broker::client
