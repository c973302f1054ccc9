// A broker's life with the controller (KAFKA.md "Controller"): register with a fresh incarnation
// id, then heartbeat every heartbeat_interval reporting how far it has applied the metadata log.
// The controller unfences it once it has caught up with its own registration, fences it when the
// heartbeats stop, and tells it when a controlled shutdown may complete. A STALE_BROKER_EPOCH
// answer (the controller no longer knows this registration) makes it register again.
//
// Observation events: broker.registered {broker_epoch}, broker.fenced_state {fenced}.
#pragma once

#include <optional>

#include "broker/controller/state_machine.hpp"
#include "broker/net/rpc.hpp"
#include "broker/raft/raft.hpp"

namespace seedlog::broker::server {

struct LifecycleConfig {
  sim::Duration heartbeat_interval = sim::Duration::s(2);  // broker.heartbeat.interval.ms
  sim::Duration request_timeout = sim::Duration::s(2);
  sim::Duration retry_backoff = sim::Duration::ms(100);
  sim::Port kafka_port = 9092;
  sim::Port controller_port = 9093;
  std::string rack;
};

class BrokerLifecycle {
 public:
  BrokerLifecycle(sim::Env& env, raft::Raft& raft, controller::MetadataStateMachine& metadata, RpcClient& rpc,
                  LifecycleConfig config);
  void start();
  void request_shutdown() { want_shutdown_ = true; }

  std::optional<protocol::BrokerEpoch> broker_epoch() const { return epoch_; }
  bool fenced() const { return fenced_; }
  bool shutdown_allowed() const { return shutdown_allowed_; }

 private:
  void run();
  bool register_once();
  bool heartbeat_once();
  std::optional<sim::NodeId> controller() const;

  sim::Env& env_;
  raft::Raft& raft_;
  controller::MetadataStateMachine& metadata_;
  RpcClient& rpc_;
  LifecycleConfig config_;
  protocol::Uuid incarnation_;
  std::optional<protocol::BrokerEpoch> epoch_;
  bool fenced_ = true;
  bool want_shutdown_ = false;
  bool shutdown_allowed_ = false;
};

}  // namespace seedlog::broker::server
