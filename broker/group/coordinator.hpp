// The group coordinator of one broker (Kafka's GroupCoordinator + GroupMetadataManager, classic
// protocol; docs/groups.md has the whole story).
//
// Placement: a group lives in partition javaHash(group) mod N of __consumer_offsets, and the leader
// of that partition is its coordinator. FindCoordinator answers that leader (and, when the topic
// does not exist yet, asks the controller to create it, as Kafka does on first use).
//
// Membership, per group: Empty -> PreparingRebalance (a join, a leave, a death) -> the join phase
// ends when every known member has rejoined or the rebalance timeout passes (members that did not
// rejoin are dropped) -> CompletingRebalance (generation + 1; the leader gets every member's
// subscription) -> the leader's SyncGroup carries the assignment, which is written to the log and
// replicated before anyone gets it -> Stable. Heartbeats keep members; a member silent for its
// session timeout is removed and the group rebalances.
//
// Offsets: OffsetCommit is fenced (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS
// during CompletingRebalance), written to the group's partition, and answered only once the HW
// passed it (acks=all). OffsetFetch answers from memory.
//
// Failover: the coordinator follows the roles of its offsets partitions. When this broker becomes
// leader of one it replays the log (answering COORDINATOR_LOAD_IN_PROGRESS until the replayed
// prefix is committed and loaded); when it stops leading one it drops its groups (NOT_COORDINATOR),
// waking every request that waits on them.
//
// Every handler may suspend (joins wait for the rebalance, writes for replication), so after every
// suspension it re-checks that the group is still loaded here and its member still exists.
//
// Events: group.rebalance, group.generation, group.stable, group.member.removed,
// group.commit.accepted, group.commit.written, group.loaded, group.unloaded (fields in docs/groups.md).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "broker/group/config.hpp"
#include "broker/net/rpc.hpp"
#include "broker/replication/replica_manager.hpp"

namespace seedlog::broker::group {

struct CoordinatorHooks {
  // Asks the active controller to create the offsets topic (blocks; errors are ignored: the
  // client retries FindCoordinator).
  std::function<void(int32_t partitions, int16_t replication_factor)> create_offsets_topic;
};

// Kafka's placement hash: Java's String.hashCode, made non-negative.
int32_t offsets_partition_for(std::string_view group_id, int32_t partitions);

struct Group;

class GroupCoordinator {
 public:
  GroupCoordinator(sim::Env& env, replication::ReplicaManager& replicas, GroupConfig config, CoordinatorHooks hooks);
  ~GroupCoordinator();
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  // Starts the role-following task and the deadline ticker.
  void start();
  // FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch;
  // nullopt for any other API.
  std::optional<protocol::Response> handle(const protocol::Request& request, const Peer& peer);

  // Groups loaded here (a test and checker view).
  std::vector<std::string> groups() const;
  std::optional<protocol::GenerationId> generation(const std::string& group) const;
  // "Empty", "PreparingRebalance", "CompletingRebalance" or "Stable"; nullopt when not loaded here.
  std::optional<std::string_view> state(const std::string& group) const;

 private:
  struct Load {
    uint64_t role_generation = 0;
    bool done = false;
  };

  protocol::FindCoordinatorResponse find_coordinator(const protocol::FindCoordinatorRequest& req);
  protocol::JoinGroupResponse join(const protocol::JoinGroupRequest& req, const std::string& client_id);
  protocol::SyncGroupResponse sync(const protocol::SyncGroupRequest& req);
  protocol::HeartbeatResponse heartbeat(const protocol::HeartbeatRequest& req);
  protocol::LeaveGroupResponse leave(const protocol::LeaveGroupRequest& req);
  protocol::OffsetCommitResponse commit(const protocol::OffsetCommitRequest& req);
  protocol::OffsetFetchResponse fetch_offsets(const protocol::OffsetFetchRequest& req);

  // NONE when this broker coordinates `group` and has loaded its partition.
  protocol::ErrorCode check_coordinator(const std::string& group, int32_t* partition) const;
  std::shared_ptr<Group> find(const std::string& group) const;
  std::shared_ptr<Group> get_or_create(const std::string& group, int32_t partition);
  protocol::ErrorCode join_wait(Group& g, const std::string& member_id, sim::Instant give_up);
  protocol::ErrorCode sync_as_leader(const std::shared_ptr<Group>& g, const protocol::SyncGroupRequest& req);
  protocol::ErrorCode commit_fencing(const Group* g, const protocol::OffsetCommitRequest& req) const;

  // Membership transitions (never suspend).
  void prepare_rebalance(Group& g, std::string_view reason);
  void try_complete_join(Group& g);
  void complete_join(Group& g);
  void remove_member(Group& g, const std::string& member_id, std::string_view reason);

  // Appends records to the group's partition and waits until they are committed (the HW passed).
  protocol::ErrorCode write(int32_t partition, std::vector<std::pair<protocol::Bytes, std::optional<protocol::Bytes>>> kvs);
  protocol::ErrorCode write_group(Group& g);

  // Loading and unloading with the offsets partitions' roles.
  void follow_roles();
  void reconcile_roles();
  void load(int32_t partition, uint64_t role_generation);
  bool replay(int32_t partition, uint64_t role_generation, std::map<std::string, std::shared_ptr<Group>>& out);
  void unload(int32_t partition);
  void tick_loop();
  void tick();

  sim::Env& env_;
  replication::ReplicaManager& replicas_;
  GroupConfig config_;
  CoordinatorHooks hooks_;
  std::map<std::string, std::shared_ptr<Group>> groups_;
  std::map<int32_t, Load> loads_;
  replication::Signal signal_;  // any group changed: waiting joins and syncs re-check
  uint64_t next_member_ = 0;
  bool creating_topic_ = false;
};

}  // namespace seedlog::broker::group
