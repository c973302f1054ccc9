// The consumer's embedded protocol inside JoinGroup and SyncGroup (opaque bytes to the coordinator):
// ConsumerProtocolSubscription v2 (topics, user data, owned partitions, generation) and
// ConsumerProtocolAssignment v1 (assigned partitions, user data). Field layout as Kafka's
// (non-flexible, int16 version first), so a capture decodes the same way.
//
// Also the small set-of-partitions vocabulary the assignors, the coordinator's events and the
// group member share: TopicPartitions (topic -> sorted partitions) and its text form "t-0,t-1".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/protocol/result.hpp"
#include "broker/protocol/types.hpp"

namespace seedlog::broker::group {

// topic -> partitions, each list sorted and without duplicates.
using TopicPartitions = std::map<std::string, std::vector<int32_t>>;

// One partition. The client's consumer and group member use this same type.
struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
  std::string to_string() const;  // "topic-p"
};

std::vector<TopicPartition> flatten(const TopicPartitions& tps);
TopicPartitions group_by_topic(const std::vector<TopicPartition>& tps);
// a \ b
TopicPartitions difference(const TopicPartitions& a, const TopicPartitions& b);
size_t count(const TopicPartitions& tps);
// "t-0,t-1,u-3" (sorted); "" when empty.
std::string to_string(const TopicPartitions& tps);
// The inverse of to_string; nullopt on malformed text.
std::optional<TopicPartitions> parse_topic_partitions(std::string_view text);

struct Subscription {
  std::vector<std::string> topics;
  protocol::Bytes user_data;
  TopicPartitions owned;                        // what the member holds now (cooperative)
  protocol::GenerationId generation{-1};        // the generation `owned` was assigned in
  bool operator==(const Subscription&) const = default;
};

struct Assignment {
  TopicPartitions partitions;
  protocol::Bytes user_data;
  bool operator==(const Assignment&) const = default;
};

protocol::Bytes encode_subscription(const Subscription& s);
protocol::Result<Subscription> decode_subscription(protocol::ByteView bytes);
protocol::Bytes encode_assignment(const Assignment& a);
protocol::Result<Assignment> decode_assignment(protocol::ByteView bytes);

}  // namespace seedlog::broker::group
