// Field-by-field schemas of the consumer group messages (messages_group.hpp). INTERNAL: see
// schema_io.hpp.
#pragma once

#include "broker/protocol/detail/schema_io.hpp"
#include "broker/protocol/messages_group.hpp"

namespace seedlog::protocol::detail {

template <class Io>
void schema_fields(Io& io, FindCoordinatorRequest& m) {
  io.field("key", m.key);
  io.field("key_type", m.key_type);
}

template <class Io>
void schema_fields(Io& io, FindCoordinatorResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("error_code", m.error_code);
  io.field("error_message", m.error_message);
  io.field("node_id", m.node_id);
  io.field("host", m.host);
  io.field("port", m.port);
}

template <class Io>
void schema_fields(Io& io, JoinGroupRequest::Protocol& m) {
  io.field("name", m.name);
  io.field("metadata", m.metadata);
}

template <class Io>
void schema_fields(Io& io, JoinGroupRequest& m) {
  io.field("group_id", m.group_id);
  io.field("session_timeout_ms", m.session_timeout_ms);
  io.field("rebalance_timeout_ms", m.rebalance_timeout_ms);
  io.field("member_id", m.member_id);
  io.field("group_instance_id", m.group_instance_id);
  io.field("protocol_type", m.protocol_type);
  io.field("protocols", m.protocols);
}

template <class Io>
void schema_fields(Io& io, JoinGroupResponse::Member& m) {
  io.field("member_id", m.member_id);
  io.field("group_instance_id", m.group_instance_id);
  io.field("metadata", m.metadata);
}

template <class Io>
void schema_fields(Io& io, JoinGroupResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("error_code", m.error_code);
  io.field("generation_id", m.generation_id);
  io.field("protocol_name", m.protocol_name);
  io.field("leader", m.leader);
  io.field("member_id", m.member_id);
  io.field("members", m.members);
}

template <class Io>
void schema_fields(Io& io, SyncGroupRequest::Assignment& m) {
  io.field("member_id", m.member_id);
  io.field("assignment", m.assignment);
}

template <class Io>
void schema_fields(Io& io, SyncGroupRequest& m) {
  io.field("group_id", m.group_id);
  io.field("generation_id", m.generation_id);
  io.field("member_id", m.member_id);
  io.field("group_instance_id", m.group_instance_id);
  io.field("assignments", m.assignments);
}

template <class Io>
void schema_fields(Io& io, SyncGroupResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("error_code", m.error_code);
  io.field("assignment", m.assignment);
}

template <class Io>
void schema_fields(Io& io, HeartbeatRequest& m) {
  io.field("group_id", m.group_id);
  io.field("generation_id", m.generation_id);
  io.field("member_id", m.member_id);
  io.field("group_instance_id", m.group_instance_id);
}

template <class Io>
void schema_fields(Io& io, HeartbeatResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("error_code", m.error_code);
}

template <class Io>
void schema_fields(Io& io, LeaveGroupRequest& m) {
  io.field("group_id", m.group_id);
  io.field("member_id", m.member_id);
}

template <class Io>
void schema_fields(Io& io, LeaveGroupResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("error_code", m.error_code);
}

template <class Io>
void schema_fields(Io& io, OffsetCommitRequest::Partition& m) {
  io.field("partition_index", m.partition_index);
  io.field("committed_offset", m.committed_offset);
  io.field("committed_leader_epoch", m.committed_leader_epoch);
  io.field("committed_metadata", m.committed_metadata);
}

template <class Io>
void schema_fields(Io& io, OffsetCommitRequest::Topic& m) {
  io.field("name", m.name);
  io.field("partitions", m.partitions);
}

template <class Io>
void schema_fields(Io& io, OffsetCommitRequest& m) {
  io.field("group_id", m.group_id);
  io.field("generation_id", m.generation_id);
  io.field("member_id", m.member_id);
  io.field("group_instance_id", m.group_instance_id);
  io.field("topics", m.topics);
}

template <class Io>
void schema_fields(Io& io, OffsetCommitResponse::Partition& m) {
  io.field("partition_index", m.partition_index);
  io.field("error_code", m.error_code);
}

template <class Io>
void schema_fields(Io& io, OffsetCommitResponse::Topic& m) {
  io.field("name", m.name);
  io.field("partitions", m.partitions);
}

template <class Io>
void schema_fields(Io& io, OffsetCommitResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("topics", m.topics);
}

template <class Io>
void schema_fields(Io& io, OffsetFetchRequest::Topic& m) {
  io.field("name", m.name);
  io.field("partition_indexes", m.partition_indexes);
}

template <class Io>
void schema_fields(Io& io, OffsetFetchRequest& m) {
  io.field("group_id", m.group_id);
  io.field("topics", m.topics);
}

template <class Io>
void schema_fields(Io& io, OffsetFetchResponse::Partition& m) {
  io.field("partition_index", m.partition_index);
  io.field("committed_offset", m.committed_offset);
  io.field("committed_leader_epoch", m.committed_leader_epoch);
  io.field("metadata", m.metadata);
  io.field("error_code", m.error_code);
}

template <class Io>
void schema_fields(Io& io, OffsetFetchResponse::Topic& m) {
  io.field("name", m.name);
  io.field("partitions", m.partitions);
}

template <class Io>
void schema_fields(Io& io, OffsetFetchResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("topics", m.topics);
  io.field("error_code", m.error_code);
}

}  // namespace seedlog::protocol::detail
