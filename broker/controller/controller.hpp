// The active controller: the Raft leader of the metadata quorum turns requests into metadata
// records (KAFKA.md "Controller").
//
// Every operation runs on one controller task, one at a time, against the committed image: an
// operation computes its records, proposes them, and waits until they are committed and applied
// before the next one starts, so no two operations ever compute from the same stale state (KRaft's
// event queue). On becoming leader the controller first commits a no-op of its epoch, which makes
// its image complete, and treats every broker as freshly heard from.
//
// Operations: broker registration (broker epoch = the record's offset), heartbeats (unfencing a
// broker once its metadata has caught up with its own registration; controlled shutdown), fencing
// of brokers whose heartbeats stop for session_timeout (they leave every ISR unless last, and
// lose leadership), topic and partition creation, AlterPartition from partition leaders (checked
// against the current leader and partition epochs and the ISR candidates' broker epochs), and
// producer id allocation.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <optional>

#include "broker/controller/state_machine.hpp"
#include "broker/net/rpc.hpp"
#include "broker/raft/raft.hpp"
#include "sim/sync.hpp"

namespace seedlog::broker::controller {

struct ControllerConfig {
  sim::Duration session_timeout = sim::Duration::s(9);       // broker.session.timeout.ms
  sim::Duration fence_check_interval = sim::Duration::ms(250);
  sim::Duration operation_timeout = sim::Duration::s(5);
  bool unclean_leader_election = false;                      // unclean.leader.election.enable
  int16_t default_replication_factor = 3;
  int32_t default_partitions = 1;
  int64_t producer_id_block = 1;                             // ids handed out per record
};

class Controller {
 public:
  Controller(sim::Env& env, raft::Raft& raft, MetadataStateMachine& metadata, ControllerConfig config);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void start();
  // BrokerRegistration, BrokerHeartbeat, CreateTopics, CreatePartitions, AlterPartition and
  // InitProducerId; nullopt for anything else. Non-leaders answer NOT_CONTROLLER.
  std::optional<protocol::Response> handle(const protocol::Request& request, const Peer& peer);
  bool active() const { return active_; }

 private:
  struct Op;
  protocol::Response run(const protocol::Request& request);
  void loop();
  void fence_checker();
  void activate(raft::Epoch epoch);
  bool propose(std::vector<metadata::Record> records);

  protocol::ResponseBody register_broker(const protocol::BrokerRegistrationRequest& r);
  protocol::ResponseBody heartbeat(const protocol::BrokerHeartbeatRequest& r);
  protocol::ResponseBody create_topics(const protocol::CreateTopicsRequest& r);
  protocol::ResponseBody create_partitions(const protocol::CreatePartitionsRequest& r);
  protocol::ResponseBody alter_partition(const protocol::AlterPartitionRequest& r, int16_t version);
  protocol::ResponseBody init_producer_id(const protocol::InitProducerIdRequest& r);
  protocol::ResponseBody not_controller(protocol::ApiKey key) const;

  std::vector<metadata::Record> fence(metadata::BrokerId broker);
  std::vector<metadata::Record> move_leadership_away(metadata::BrokerId broker, bool remove_from_isr);
  std::vector<metadata::Record> elect_leaderless();
  bool alive(metadata::BrokerId b) const;

  sim::Env& env_;
  raft::Raft& raft_;
  MetadataStateMachine& metadata_;
  ControllerConfig config_;
  std::unique_ptr<sim::Channel<std::shared_ptr<Op>>> ops_;
  bool active_ = false;
  bool reactivation_queued_ = false;  // an activation after a failed write is waiting in ops_
  raft::Epoch active_epoch_{-1};
  std::map<int32_t, sim::Instant> last_heartbeat_;  // soft state of the active controller only
  // Brokers this controller has heard from (registration or heartbeat) since it became active.
  std::set<int32_t> heard_since_activation_;
  std::map<int32_t, bool> shutting_down_;
};

}  // namespace seedlog::broker::controller
