// A consumer group as its coordinator holds it in memory (coordinator.cpp's private state).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "broker/group/records.hpp"
#include "broker/protocol/messages_group.hpp"
#include "sim/time.hpp"

namespace seedlog::broker::group {

enum class GroupState : uint8_t { empty, preparing_rebalance, completing_rebalance, stable };
std::string_view to_string(GroupState s);

struct Member {
  std::string id;
  std::string client_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::vector<protocol::JoinGroupRequest::Protocol> protocols;
  bool awaiting_join = false;  // joined the current rebalance, waiting for it to complete
  protocol::Bytes assignment;
  sim::Instant heartbeat_deadline;
  const protocol::Bytes* metadata_for(const std::string& protocol) const;
};

struct Group {
  std::string id;
  int32_t partition = 0;  // of the offsets topic
  GroupState state = GroupState::empty;
  protocol::GenerationId generation{0};
  std::string protocol_type;
  std::string protocol;
  std::string leader;
  std::map<std::string, Member> members;
  // KIP-394: ids handed out with MEMBER_ID_REQUIRED, with the time they lapse unless the client
  // joins again with one. Not members yet, so a join whose answer was lost leaves no ghost behind.
  std::map<std::string, sim::Instant> pending_members;
  // The members of the last completed join (what the leader's JoinGroup answer lists).
  std::vector<protocol::JoinGroupResponse::Member> joined;
  sim::Instant rebalance_deadline;
  sim::Instant join_not_before;  // group.initial.rebalance.delay for a group that was empty
  std::map<std::pair<std::string, int32_t>, OffsetValue> offsets;
  bool dead = false;  // unloaded: this broker no longer coordinates it
};

}  // namespace seedlog::broker::group
