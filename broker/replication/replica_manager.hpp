// The replica manager of one broker (Kafka's ReplicaManager): every local replica of a partition,
// its role, and the Kafka APIs of the data path.
//
//   - Roles follow the metadata image. A metadata task reconciles the local replicas with the
//     image whenever a committed record changes it: a replica the image names as leader becomes
//     leader at that leader epoch, one it names as follower becomes follower (on every leader-epoch
//     change, not only a leader change), one that left the assignment stops. Nothing happens until
//     this broker has registered and its image holds that registration: by then the controller has
//     taken a restarted broker out of every ISR and moved its leaderships away, so a process that
//     lost unflushed data never leads or counts for an ISR with it.
//   - Produce (v7), Fetch (v11 with incremental fetch sessions, consumers and followers), ListOffsets (v2), OffsetForLeaderEpoch
//     (v3/v4) are answered by handle(); see produce.cpp and fetch.cpp.
//   - Followers replicate through one fetcher task per source broker (fetcher.hpp).
//   - The ISR task proposes ISR changes to the active controller with AlterPartition v3.
//   - Background tasks checkpoint high watermarks and run the flush policy.
//
// Broker epochs on inter-broker requests: Fetch v11 and OffsetForLeaderEpoch v3 (the versions
// Wireshark 4.0 decodes) have no field for the follower's broker epoch (Fetch v15's replica_state,
// KIP-903). A follower therefore names it in the request header's client id,
// "replica-<broker id>-epoch-<broker epoch>" (replica_client_id()). The leader refuses a replica
// request unless the image shows that broker registered, unfenced and with exactly that epoch
// (STALE_BROKER_EPOCH): a fetch still in flight from a previous incarnation of a restarted follower,
// or one from a follower the controller fenced, never moves the follower's position, and a new
// incarnation starts with no position at all (LeaderState::on_fetch).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/controller/state_machine.hpp"
#include "broker/net/rpc.hpp"
#include "broker/replication/config.hpp"
#include "broker/replication/fetch_session.hpp"
#include "broker/replication/partition.hpp"
#include "sim/fiber_sync.hpp"

namespace seedlog::broker::replication {

// The node's task primitives (sim/fiber_sync.hpp).
using sim::FiberLock;
using sim::FiberMutex;
using sim::Signal;

class FetcherManager;

// What the replica manager needs from the rest of the broker process.
struct ReplicaManagerHooks {
  std::function<std::optional<BrokerEpoch>()> broker_epoch;       // the lifecycle's registration
  std::function<std::optional<sim::NodeId>()> active_controller;  // where AlterPartition goes
  sim::Port kafka_port = 9092;
  sim::Port controller_port = 9093;
  // A replica's log failed on the disk (an I/O error, a failed fsync, the log gone offline): the
  // page cache can no longer be trusted, and the broker exits (BrokerNode). Empty: the replica
  // closes an offline log and reopens it on the next metadata change (tests of the layer alone).
  std::function<void(const std::string& why)> storage_failed;
};

std::string replica_client_id(BrokerId broker, BrokerEpoch epoch);
// The broker epoch a replica request names in its client id, if it names one for `broker`.
std::optional<BrokerEpoch> parse_replica_client_id(const std::optional<std::string>& client_id, BrokerId broker);

class ReplicaManager {
 public:
  ReplicaManager(sim::Env& env, controller::MetadataStateMachine& metadata, ReplicaManagerHooks hooks,
                 ReplicationConfig config);
  ~ReplicaManager();
  ReplicaManager(const ReplicaManager&) = delete;
  ReplicaManager& operator=(const ReplicaManager&) = delete;

  void start();
  // Produce, Fetch, ListOffsets and OffsetForLeaderEpoch; nullopt for any other API.
  std::optional<protocol::Response> handle(const protocol::Request& request, const Peer& peer);

  BrokerId self() const { return self_; }
  const ReplicationConfig& config() const { return config_; }
  const FetchSessionCache& fetch_sessions() const { return sessions_; }
  // Registered, and the image holds this registration: roles are applied from then on.
  bool ready() const;
  Partition* partition(std::string_view topic, int32_t partition);
  std::vector<PartitionKey> partitions() const;
  // Flushes every log and checkpoints every HW (a test verb: the OS wrote the page cache back).
  void flush_all();

  // For the request handlers (produce.cpp, fetch.cpp).
  const metadata::Image& image() const { return metadata_.image(); }
  // Notified when a partition's role generation or open state changes (the group coordinator
  // follows the offsets partitions' roles with it); a task waiting for one partition's appends or HW
  // uses PartitionWatch instead.
  Signal& roles_changed() { return roles_changed_; }
  sim::Env& env() { return env_; }
  // NONE when a replica request may be served: the image shows the broker registered, unfenced,
  // with the broker epoch the request names.
  protocol::ErrorCode check_replica(BrokerId replica, const std::optional<std::string>& client_id,
                                    BrokerEpoch* epoch) const;
  void wake_isr_task() { isr_wakeup_.notify(); }

 private:
  void metadata_loop();
  void reconcile();
  void reconcile_partition(const metadata::PartitionInfo& info);
  void retire_missing();
  void isr_loop();
  void send_isr_proposals();
  void checkpoint_loop();
  void flush_loop();
  bool live(BrokerId broker, BrokerEpoch epoch) const;

  protocol::Response produce(const protocol::Request& request);
  protocol::Response fetch(const protocol::Request& request);
  protocol::Response list_offsets(const protocol::Request& request);
  protocol::Response offset_for_leader_epoch(const protocol::Request& request);

  sim::Env& env_;
  controller::MetadataStateMachine& metadata_;
  ReplicaManagerHooks hooks_;
  ReplicationConfig config_;
  BrokerId self_;
  // Never erased while the process lives: tasks hold Partition pointers across suspensions.
  std::map<PartitionKey, std::unique_ptr<Partition>, PartitionKeyLess> partitions_;
  Signal roles_changed_;
  Signal metadata_signal_;
  Signal isr_wakeup_;
  bool metadata_dirty_ = true;
  std::unique_ptr<FetcherManager> fetchers_;
  // Process memory: a restarted broker starts with no sessions, and its fetchers' next
  // incremental fetches are answered FETCH_SESSION_ID_NOT_FOUND.
  FetchSessionCache sessions_;
  std::unique_ptr<RpcClient> controller_rpc_;
};

}  // namespace seedlog::broker::replication
