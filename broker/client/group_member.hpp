// The client side of a consumer group (classic protocol): one member's membership, commits and
// committed-offset lookups. It does not fetch records; the fetching consumer drives it: subscribe,
// read assignment() when it changes (the listener says when), commit its positions.
//
// A membership task runs find coordinator -> JoinGroup -> (the leader assigns with its assignor)
// -> SyncGroup -> heartbeats every heartbeat_interval, and rejoins when the coordinator answers
// REBALANCE_IN_PROGRESS, when the subscription changes, or (the leader) when metadata shows a
// subscribed topic with more partitions than it assigned.
//
// Ownership and the listener:
//   - eager assignors (range, roundrobin): every owned partition is revoked (on_partitions_revoked,
//     then the group.member.revoked event) before JoinGroup, and the whole new assignment arrives
//     after SyncGroup (the group.member.assigned event, then on_partitions_assigned).
//   - cooperative-sticky: members keep what they own while rejoining; after SyncGroup a member
//     revokes only what it lost and rejoins at once, so the partition can move in the next
//     generation (KIP-429's two rebalances).
//   - lost: ILLEGAL_GENERATION or UNKNOWN_MEMBER_ID from the coordinator, or no successful
//     heartbeat for a session timeout counted from when the last good one was sent (so the member
//     gives up no later than the coordinator evicts it): on_partitions_lost, no commit possible.
// Commits carry the member's generation and id; a revocation first waits for its async commits.
//
// Events: group.member.joined {group, member, generation, leader}, group.member.assigned and
// group.member.revoked {group, member, generation, partitions, reason}, group.commit.sent
// {group, member, generation, partitions}, group.commit.result {group, member, error}.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/group/assignors.hpp"
#include "broker/net/rpc.hpp"

namespace seedlog::broker::client {

using group::TopicPartition;
using group::TopicPartitions;

struct GroupMemberConfig {
  std::vector<sim::NodeId> bootstrap;
  sim::Port port = 9092;
  std::string group_id;
  std::string client_id = "consumer";
  std::vector<std::string> topics;
  group::AssignorKind assignor = group::AssignorKind::range;
  sim::Duration session_timeout = sim::Duration::s(10);    // session.timeout.ms
  sim::Duration rebalance_timeout = sim::Duration::s(10);  // max.poll.interval.ms plays this role in Kafka
  sim::Duration heartbeat_interval = sim::Duration::s(1);  // heartbeat.interval.ms
  sim::Duration request_timeout = sim::Duration::s(5);
  sim::Duration retry_backoff = sim::Duration::ms(100);
  sim::Duration metadata_refresh = sim::Duration::s(1);    // the leader's watch on partition counts
  bool assignor_overlap_defect = false;                    // the defect, in the leader's assignor
};

struct RebalanceListener {
  std::function<void(const TopicPartitions&)> on_partitions_revoked;
  std::function<void(const TopicPartitions&)> on_partitions_assigned;
  std::function<void(const TopicPartitions&)> on_partitions_lost;
};

struct CommitResult {
  protocol::ErrorCode error = protocol::ErrorCode::none;
  bool rpc_failed = false;  // no coordinator answered before the deadline
  bool ok() const { return !rpc_failed && error == protocol::ErrorCode::none; }
};

using OffsetMap = std::map<TopicPartition, protocol::Offset>;

// Where a partition is: the next offset to return, and the leader epoch of the record before it
// (none when the position came from a seek or a ListOffsets, which do not know it). The consumer's
// position and a committed offset are the same pair: a commit carries the epoch (OffsetCommit v7's
// committed_leader_epoch) so that whoever resumes from it can validate it against the leader
// (KIP-320).
struct Position {
  protocol::Offset offset{0};
  std::optional<protocol::LeaderEpoch> epoch;
  bool operator==(const Position&) const = default;
};
using PositionMap = std::map<TopicPartition, Position>;

class GroupMember {
 public:
  GroupMember(sim::Env& env, GroupMemberConfig config, RebalanceListener listener = {});
  ~GroupMember();
  GroupMember(const GroupMember&) = delete;
  GroupMember& operator=(const GroupMember&) = delete;

  void start();
  // Revokes what it owns (the listener may commit), leaves the group and stops. Blocks the caller.
  void close();
  // A new subscription: the member rejoins with it.
  void subscribe(std::vector<std::string> topics);

  bool stable() const;  // in a generation, with an assignment, not about to rejoin
  const TopicPartitions& assignment() const;
  protocol::GenerationId generation() const;
  const std::string& member_id() const;

  // Commits `offsets` with the member's current generation and id; retries coordinator moves until
  // request_timeout, returns fencing errors (ILLEGAL_GENERATION, ...) at once. Blocks the caller.
  CommitResult commit_sync(const OffsetMap& offsets);
  void commit_async(const OffsetMap& offsets, std::function<void(const CommitResult&)> done = {});
  // The same with leader epochs (what the consumer commits: its positions).
  CommitResult commit_positions(const PositionMap& positions);
  void commit_positions_async(const PositionMap& positions, std::function<void(const CommitResult&)> done = {});
  // The committed offsets of `partitions` (-1 when none); nullopt when no coordinator answered.
  std::optional<OffsetMap> committed(const std::vector<TopicPartition>& partitions);
  // The same with their leader epochs; partitions without a committed offset are absent.
  std::optional<PositionMap> committed_positions(const std::vector<TopicPartition>& partitions);

  // Test verb: the process freezes (a long GC pause): no heartbeats, no session checks; commits
  // still go out with whatever generation the member last had (a zombie's).
  void pause(bool paused);

  struct State;

 private:
  std::shared_ptr<State> s_;
};

}  // namespace seedlog::broker::client
