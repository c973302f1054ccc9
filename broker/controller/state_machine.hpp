// The metadata state machine: what every node's Raft applies committed metadata records to.
//
// It keeps the metadata image and tells listeners what changed, record by record, in log order:
// the broker's replication layer learns here that it leads or follows a partition, the active
// controller learns the committed state it computes its next records from. It also emits the
// observation events the online invariant checkers read:
//   metadata.partition {topic, partition, leader, leader_epoch, partition_epoch, isr, replicas, unclean, offset}
//   metadata.broker    {broker, broker_epoch, fenced, registered, offset}
//   metadata.applied   {last_offset}: a whole committed batch has been applied
//   metadata.restored  {last_offset}: the image was replaced by a snapshot, whose brokers and
//                      partitions follow as metadata.broker/metadata.partition events
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "broker/metadata/image.hpp"
#include "broker/raft/raft.hpp"
#include "sim/env.hpp"

namespace seedlog::broker::controller {

using metadata::BrokerInfo;
using metadata::Image;
using metadata::PartitionInfo;

// Called after each record is applied, with the image before and after it.
using ChangeListener = std::function<void(const metadata::Record& record, const Image& before, const Image& after)>;

class MetadataStateMachine final : public raft::StateMachine {
 public:
  explicit MetadataStateMachine(sim::Env& env) : env_(env) {}

  void apply(raft::Offset base_offset, raft::Epoch epoch, const std::vector<raft::Bytes>& records) override;
  raft::Bytes snapshot() override { return image_.snapshot(); }
  sim::Status restore(raft::ByteView snapshot, raft::Offset next_offset) override;
  void on_leader_change(std::optional<raft::BrokerId> leader, raft::Epoch epoch) override;

  const Image& image() const { return image_; }
  void add_listener(ChangeListener listener) { listeners_.push_back(std::move(listener)); }
  void add_leader_listener(std::function<void(std::optional<raft::BrokerId>, raft::Epoch)> l) {
    leader_listeners_.push_back(std::move(l));
  }
  // Offset of the next record to apply (what a broker reports as its metadata position).
  int64_t next_offset() const { return image_.last_offset() + 1; }

 private:
  void emit(const metadata::Record& record, int64_t offset);

  sim::Env& env_;
  Image image_;
  std::vector<ChangeListener> listeners_;
  std::vector<std::function<void(std::optional<raft::BrokerId>, raft::Epoch)>> leader_listeners_;
};

std::string ids_text(const std::vector<metadata::BrokerId>& ids);

}  // namespace seedlog::broker::controller
