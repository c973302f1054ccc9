// The metadata log's records: what the controller quorum agrees on, in order.
//
// KRaft-style: the cluster's metadata is the result of applying these records in log order, from
// an empty image or a snapshot. Every broker replicates the log and applies committed records, so
// every broker converges on the same image. Records carry complete new values (a partition change
// states the new leader, ISR and both epochs) so that applying is a pure function of the record
// and the image, and a checker reading the log sees every epoch explicitly.
//
// Encoding: one byte of record type, one byte of version (0), then the fields big-endian with
// Kafka's primitives (protocol::Writer/Reader). Decoding treats the bytes as hostile.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "broker/protocol/result.hpp"
#include "broker/protocol/types.hpp"

namespace seedlog::broker::metadata {

using protocol::BrokerEpoch;
using protocol::BrokerId;
using protocol::LeaderEpoch;
using protocol::PartitionEpoch;
using protocol::Uuid;

inline constexpr BrokerId kNoLeader{-1};

// A broker's registration: broker_epoch is the offset of this record in the metadata log, so a
// later registration of the same broker always has a larger epoch.
struct RegisterBrokerRecord {
  BrokerId broker;
  BrokerEpoch broker_epoch;
  uint64_t incarnation = 0;  // differs for every process start: tells a restart from a retry
  uint32_t node = 0;         // the simulated node, for connections
  uint16_t port = 0;         // its Kafka listener
  std::string rack;
  bool operator==(const RegisterBrokerRecord&) const = default;
};

struct UnregisterBrokerRecord {
  BrokerId broker;
  BrokerEpoch broker_epoch;
  bool operator==(const UnregisterBrokerRecord&) const = default;
};

struct FenceBrokerRecord {
  BrokerId broker;
  BrokerEpoch broker_epoch;
  bool operator==(const FenceBrokerRecord&) const = default;
};

struct UnfenceBrokerRecord {
  BrokerId broker;
  BrokerEpoch broker_epoch;
  bool operator==(const UnfenceBrokerRecord&) const = default;
};

struct TopicRecord {
  std::string name;
  Uuid topic_id;
  bool operator==(const TopicRecord&) const = default;
};

struct PartitionRecord {
  Uuid topic_id;
  int32_t partition = 0;
  std::vector<BrokerId> replicas;
  std::vector<BrokerId> isr;
  BrokerId leader = kNoLeader;
  LeaderEpoch leader_epoch{0};
  PartitionEpoch partition_epoch{0};
  bool operator==(const PartitionRecord&) const = default;
};

// The new state of a partition. partition_epoch is always one more than before; leader_epoch is
// one more whenever the leader changes (and may be bumped without a leader change).
struct PartitionChangeRecord {
  Uuid topic_id;
  int32_t partition = 0;
  std::vector<BrokerId> isr;
  BrokerId leader = kNoLeader;
  LeaderEpoch leader_epoch{0};
  PartitionEpoch partition_epoch{0};
  bool unclean = false;  // the leader was elected from outside the ISR
  bool operator==(const PartitionChangeRecord&) const = default;
};

// A block of producer ids handed to a broker for InitProducerId: ids below next_producer_id are
// taken.
struct ProducerIdsRecord {
  BrokerId broker;
  BrokerEpoch broker_epoch;
  int64_t next_producer_id = 0;
  bool operator==(const ProducerIdsRecord&) const = default;
};

// Written by a new quorum leader: committing it commits everything before it (Raft's rule that a
// leader only counts replicas of entries of its own term).
struct NoOpRecord {
  bool operator==(const NoOpRecord&) const = default;
};

using Record = std::variant<RegisterBrokerRecord, UnregisterBrokerRecord, FenceBrokerRecord, UnfenceBrokerRecord,
                            TopicRecord, PartitionRecord, PartitionChangeRecord, ProducerIdsRecord, NoOpRecord>;

protocol::Bytes encode(const Record& record);
protocol::Result<Record> decode(protocol::ByteView bytes);
// "PartitionChange(t0/2 leader=3 epoch=5 isr=[3,1] pe=9)": for traces and reports.
std::string to_string(const Record& record);

// A topic id derived from the name and the offset of its creation: unique per creation, and the
// same on every replay.
Uuid make_topic_id(const std::string& name, int64_t creation_offset);

}  // namespace seedlog::broker::metadata
