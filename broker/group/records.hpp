// The records the coordinator writes to its partition of __consumer_offsets (key and value
// layouts follow Kafka's: a version-tagged key, a version-tagged value, a null value deleting).
//
//   offset commit    key v1 {group, topic, partition}   value v3 {offset, leader epoch, metadata,
//                                                                  commit timestamp}
//   group metadata   key v2 {group}                     value (ours, v0) {protocol type,
//                    generation, protocol, leader, members: {member id, client id, session and
//                    rebalance timeouts, subscription, assignment}}
//
// Replaying a partition's log in order rebuilds every group it holds: the last record for a key
// wins (which is also what compaction would keep; the offsets topic is not compacted here).
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "broker/protocol/result.hpp"
#include "broker/protocol/types.hpp"

namespace seedlog::broker::group {

struct OffsetKey {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  bool operator==(const OffsetKey&) const = default;
};

struct OffsetValue {
  protocol::Offset offset{-1};
  protocol::LeaderEpoch leader_epoch{-1};
  std::string metadata;
  int64_t commit_timestamp_ms = 0;
  bool operator==(const OffsetValue&) const = default;
};

struct GroupKey {
  std::string group;
  bool operator==(const GroupKey&) const = default;
};

struct StoredMember {
  std::string member_id;
  std::string client_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  protocol::Bytes subscription;
  protocol::Bytes assignment;
  bool operator==(const StoredMember&) const = default;
};

struct GroupValue {
  std::string protocol_type;
  protocol::GenerationId generation{0};
  std::string protocol;
  std::string leader;
  std::vector<StoredMember> members;
  bool operator==(const GroupValue&) const = default;
};

using RecordKey = std::variant<OffsetKey, GroupKey>;

protocol::Bytes encode_key(const RecordKey& key);
protocol::Result<RecordKey> decode_key(protocol::ByteView bytes);
protocol::Bytes encode_offset_value(const OffsetValue& v);
protocol::Result<OffsetValue> decode_offset_value(protocol::ByteView bytes);
protocol::Bytes encode_group_value(const GroupValue& v);
protocol::Result<GroupValue> decode_group_value(protocol::ByteView bytes);

}  // namespace seedlog::broker::group
