// The metadata image: the cluster's state as of some offset of the metadata log.
//
// Applying a record is a pure function of the record and the image. apply() checks that the
// record fits (epochs move forward, replicas exist, the ISR is within the replicas, the leader is
// in the ISR unless the election was unclean): a record that does not fit is a controller bug, and
// apply returns what is wrong instead of changing anything. Snapshots serialise the whole image.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/metadata/records.hpp"
#include "sim/ids.hpp"

namespace seedlog::broker::metadata {

struct BrokerInfo {
  BrokerId id;
  BrokerEpoch epoch;
  uint64_t incarnation = 0;
  bool fenced = true;  // brokers register fenced and are unfenced once caught up
  uint32_t node = 0;
  uint16_t port = 0;
  std::string rack;
  bool operator==(const BrokerInfo&) const = default;
};

struct PartitionInfo {
  Uuid topic_id;
  std::string topic;
  int32_t partition = 0;
  std::vector<BrokerId> replicas;
  std::vector<BrokerId> isr;
  BrokerId leader = kNoLeader;
  LeaderEpoch leader_epoch{0};
  PartitionEpoch partition_epoch{0};
  bool operator==(const PartitionInfo&) const = default;
  bool in_isr(BrokerId b) const;
  bool is_replica(BrokerId b) const;
};

struct TopicInfo {
  std::string name;
  Uuid id;
  std::vector<PartitionInfo> partitions;
  bool operator==(const TopicInfo&) const = default;
};

class Image {
 public:
  // Applies a committed record found at `offset`. nullopt on success; otherwise why it does not
  // fit, and the image is unchanged.
  std::optional<std::string> apply(const Record& record, int64_t offset);

  const std::map<int32_t, BrokerInfo>& brokers() const { return brokers_; }
  const BrokerInfo* broker(BrokerId id) const;
  const std::map<std::string, TopicInfo, std::less<>>& topics() const { return topics_; }
  const TopicInfo* topic(std::string_view name) const;
  const TopicInfo* topic_by_id(const Uuid& id) const;
  const PartitionInfo* partition(std::string_view topic, int32_t partition) const;
  int64_t next_producer_id() const { return next_producer_id_; }
  int64_t last_offset() const { return last_offset_; }  // -1 before any record

  protocol::Bytes snapshot() const;
  static protocol::Result<Image> restore(protocol::ByteView bytes);
  bool operator==(const Image&) const = default;

 private:
  std::optional<std::string> check(const Record& record) const;
  PartitionInfo* mutable_partition(const Uuid& topic, int32_t partition);

  std::map<int32_t, BrokerInfo> brokers_;
  std::map<std::string, TopicInfo, std::less<>> topics_;
  std::map<std::string, std::string> topic_names_;  // topic id (16 raw bytes) -> name
  int64_t next_producer_id_ = 0;
  int64_t last_offset_ = -1;
};

}  // namespace seedlog::broker::metadata
