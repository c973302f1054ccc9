// A broker process: what a node's boot function runs (KAFKA.md; docs/controller.md).
//
// Every node runs a Raft member of the metadata quorum (a voter if it is in the controller set,
// otherwise an observer that only replicates), the metadata state machine, and the broker
// lifecycle. Voters also run the controller, which is active while their Raft leads. Two
// listeners, as KRaft separates them: 9092 for clients and other brokers (Kafka APIs), 9093 for the
// controller quorum (Raft APIs and the controller's APIs).
//
// Broker ids are node ids: broker n runs on simulated node n.
#pragma once

#include <memory>
#include <optional>

#include "broker/controller/controller.hpp"
#include "broker/controller/state_machine.hpp"
#include "broker/group/coordinator.hpp"
#include "broker/net/rpc.hpp"
#include "broker/raft/raft.hpp"
#include "broker/replication/replica_manager.hpp"
#include "broker/server/lifecycle.hpp"

namespace seedlog::broker::server {

struct NodeConfig {
  std::vector<raft::Voter> voters;           // the controller quorum
  raft::RaftConfig raft;                     // self and voters are filled in at boot
  controller::ControllerConfig controller;
  LifecycleConfig lifecycle;
  // Partition replication; its unclean-isr-of-one defect also turns on the controller's unclean
  // leader election (the two halves of that bug).
  replication::ReplicationConfig replication;
  group::GroupConfig group;  // the group coordinator and its offsets topic
  sim::Duration forward_timeout = sim::Duration::s(5);
};

class BrokerNode {
 public:
  BrokerNode(sim::Env& env, NodeConfig config);
  ~BrokerNode();
  BrokerNode(const BrokerNode&) = delete;
  BrokerNode& operator=(const BrokerNode&) = delete;

  // Recovers storage, starts Raft, the controller (voters), the lifecycle and both listeners.
  sim::Status start();

  // The boot function for sim::World::add_node: builds a BrokerNode kept for the process's life and
  // starts it; a start that fails halts the process (so it returns only a started broker).
  static std::shared_ptr<BrokerNode> boot(sim::Env& env, const NodeConfig& config);
  // The process exits now ("broker.halted" with the reason, then sim::Env::exit): what a storage
  // failure anywhere in the broker leads to. Does not return.
  [[noreturn]] void halt(const std::string& why);

  bool is_voter() const { return controller_ != nullptr; }
  raft::Raft& raft() { return *raft_; }
  const metadata::Image& image() const { return metadata_->image(); }
  controller::MetadataStateMachine& metadata() { return *metadata_; }
  BrokerLifecycle& lifecycle() { return *lifecycle_; }
  controller::Controller* controller() { return controller_.get(); }
  replication::ReplicaManager& replicas() { return *replicas_; }
  group::GroupCoordinator& groups() { return *groups_; }

 private:
  std::optional<protocol::Response> on_controller_listener(const protocol::Request& request, const Peer& peer);
  std::optional<protocol::Response> on_kafka_listener(const protocol::Request& request, const Peer& peer);
  protocol::Response metadata_response(const protocol::Request& request) const;
  std::optional<protocol::Response> forward_to_controller(const protocol::Request& request);
  void create_offsets_topic(int32_t partitions, int16_t replication_factor);

  sim::Env& env_;
  NodeConfig config_;
  std::unique_ptr<controller::MetadataStateMachine> metadata_;
  std::unique_ptr<raft::Raft> raft_;
  std::unique_ptr<controller::Controller> controller_;
  std::unique_ptr<RpcClient> rpc_;
  std::unique_ptr<BrokerLifecycle> lifecycle_;
  std::unique_ptr<replication::ReplicaManager> replicas_;
  std::unique_ptr<group::GroupCoordinator> groups_;
  std::unique_ptr<RpcServer> controller_listener_;
  std::unique_ptr<RpcServer> kafka_listener_;
};

}  // namespace seedlog::broker::server
