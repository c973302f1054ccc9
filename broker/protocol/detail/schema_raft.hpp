// Field-by-field schemas of the controller-side messages (messages_raft.hpp). INTERNAL: see
// schema_io.hpp.
#pragma once

#include "broker/protocol/detail/schema_common.hpp"
#include "broker/protocol/messages_raft.hpp"

namespace seedlog::protocol::detail {

// ---- Vote v0 -------------------------------------------------------------------------------

template <class Io>
void schema_fields(Io& io, VoteRequest::Partition& m) {
  io.field("partition_index", m.partition_index);
  io.field("candidate_epoch", m.candidate_epoch);
  io.field("candidate_id", m.candidate_id);
  io.field("last_offset_epoch", m.last_offset_epoch);
  io.field("last_offset", m.last_offset);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, VoteRequest::Topic& m) {
  io.field("topic_name", m.topic_name);
  io.field("partitions", m.partitions);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, VoteRequest& m) {
  io.field("cluster_id", m.cluster_id);
  io.field("topics", m.topics);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, VoteResponse::Partition& m) {
  io.field("partition_index", m.partition_index);
  io.field("error_code", m.error_code);
  io.field("leader_id", m.leader_id);
  io.field("leader_epoch", m.leader_epoch);
  io.field("vote_granted", m.vote_granted);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, VoteResponse::Topic& m) {
  io.field("topic_name", m.topic_name);
  io.field("partitions", m.partitions);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, VoteResponse& m) {
  io.field("error_code", m.error_code);
  io.field("topics", m.topics);
  io.tags(m.unknown_tags);
}

// ---- BeginQuorumEpoch v0, EndQuorumEpoch v0 ------------------------------------------------

template <class Io>
void schema_fields(Io& io, QuorumEpochPartitionResult& m) {
  io.field("partition_index", m.partition_index);
  io.field("error_code", m.error_code);
  io.field("leader_id", m.leader_id);
  io.field("leader_epoch", m.leader_epoch);
}

template <class Io>
void schema_fields(Io& io, QuorumEpochTopicResult& m) {
  io.field("topic_name", m.topic_name);
  io.field("partitions", m.partitions);
}

template <class Io>
void schema_fields(Io& io, BeginQuorumEpochRequest::Partition& m) {
  io.field("partition_index", m.partition_index);
  io.field("leader_id", m.leader_id);
  io.field("leader_epoch", m.leader_epoch);
}

template <class Io>
void schema_fields(Io& io, BeginQuorumEpochRequest::Topic& m) {
  io.field("topic_name", m.topic_name);
  io.field("partitions", m.partitions);
}

template <class Io>
void schema_fields(Io& io, BeginQuorumEpochRequest& m) {
  io.field("cluster_id", m.cluster_id);
  io.field("topics", m.topics);
}

template <class Io>
void schema_fields(Io& io, BeginQuorumEpochResponse& m) {
  io.field("error_code", m.error_code);
  io.field("topics", m.topics);
}

template <class Io>
void schema_fields(Io& io, EndQuorumEpochRequest::Partition& m) {
  io.field("partition_index", m.partition_index);
  io.field("leader_id", m.leader_id);
  io.field("leader_epoch", m.leader_epoch);
  io.field("preferred_successors", m.preferred_successors);
}

template <class Io>
void schema_fields(Io& io, EndQuorumEpochRequest::Topic& m) {
  io.field("topic_name", m.topic_name);
  io.field("partitions", m.partitions);
}

template <class Io>
void schema_fields(Io& io, EndQuorumEpochRequest& m) {
  io.field("cluster_id", m.cluster_id);
  io.field("topics", m.topics);
}

template <class Io>
void schema_fields(Io& io, EndQuorumEpochResponse& m) {
  io.field("error_code", m.error_code);
  io.field("topics", m.topics);
}

// ---- AlterPartition v0-v3 ------------------------------------------------------------------

template <class Io>
void schema_fields(Io& io, AlterPartitionRequest::BrokerState& m) {
  io.field("broker_id", m.broker_id);
  io.field("broker_epoch", m.broker_epoch);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, AlterPartitionRequest::Partition& m) {
  io.field("partition_index", m.partition_index);
  io.field("leader_epoch", m.leader_epoch);
  if (io.version() <= 2) {
    io.field("new_isr", m.new_isr);
  } else {
    io.field("new_isr_with_epochs", m.new_isr_with_epochs);
  }
  if (io.version() >= 1) io.field("leader_recovery_state", m.leader_recovery_state);
  io.field("partition_epoch", m.partition_epoch);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, AlterPartitionRequest::Topic& m) {
  if (io.version() <= 1) {
    io.field("topic_name", m.topic_name);
  } else {
    io.field("topic_id", m.topic_id);
  }
  io.field("partitions", m.partitions);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, AlterPartitionRequest& m) {
  io.field("broker_id", m.broker_id);
  io.field("broker_epoch", m.broker_epoch);
  io.field("topics", m.topics);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, AlterPartitionResponse::Partition& m) {
  io.field("partition_index", m.partition_index);
  io.field("error_code", m.error_code);
  io.field("leader_id", m.leader_id);
  io.field("leader_epoch", m.leader_epoch);
  io.field("isr", m.isr);
  if (io.version() >= 1) io.field("leader_recovery_state", m.leader_recovery_state);
  io.field("partition_epoch", m.partition_epoch);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, AlterPartitionResponse::Topic& m) {
  if (io.version() <= 1) {
    io.field("topic_name", m.topic_name);
  } else {
    io.field("topic_id", m.topic_id);
  }
  io.field("partitions", m.partitions);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, AlterPartitionResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("error_code", m.error_code);
  io.field("topics", m.topics);
  io.tags(m.unknown_tags);
}

// ---- FetchSnapshot v0 ----------------------------------------------------------------------

template <class Io>
void schema_fields(Io& io, FetchSnapshotRequest::Partition& m) {
  io.field("partition", m.partition);
  io.field("current_leader_epoch", m.current_leader_epoch);
  io.field("snapshot_id", m.snapshot_id);
  io.field("position", m.position);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, FetchSnapshotRequest::Topic& m) {
  io.field("name", m.name);
  io.field("partitions", m.partitions);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, FetchSnapshotRequest& m) {
  io.field("replica_id", m.replica_id);
  io.field("max_bytes", m.max_bytes);
  io.field("topics", m.topics);
  io.tags(m.unknown_tags, tag(0, "cluster_id", m.cluster_id));
}

template <class Io>
void schema_fields(Io& io, FetchSnapshotResponse::Partition& m) {
  io.field("index", m.index);
  io.field("error_code", m.error_code);
  io.field("snapshot_id", m.snapshot_id);
  io.field("size", m.size);
  io.field("position", m.position);
  io.field("unaligned_records", m.unaligned_records);
  io.tags(m.unknown_tags, tag(0, "current_leader", m.current_leader));
}

template <class Io>
void schema_fields(Io& io, FetchSnapshotResponse::Topic& m) {
  io.field("name", m.name);
  io.field("partitions", m.partitions);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, FetchSnapshotResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("error_code", m.error_code);
  io.field("topics", m.topics);
  io.tags(m.unknown_tags);
}

// ---- BrokerRegistration v0, BrokerHeartbeat v0 ---------------------------------------------

template <class Io>
void schema_fields(Io& io, BrokerRegistrationRequest::Listener& m) {
  io.field("name", m.name);
  io.field("host", m.host);
  io.field("port", m.port);
  io.field("security_protocol", m.security_protocol);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, BrokerRegistrationRequest::Feature& m) {
  io.field("name", m.name);
  io.field("min_supported_version", m.min_supported_version);
  io.field("max_supported_version", m.max_supported_version);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, BrokerRegistrationRequest& m) {
  io.field("broker_id", m.broker_id);
  io.field("cluster_id", m.cluster_id);
  io.field("incarnation_id", m.incarnation_id);
  io.field("listeners", m.listeners);
  io.field("features", m.features);
  io.field("rack", m.rack);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, BrokerRegistrationResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("error_code", m.error_code);
  io.field("broker_epoch", m.broker_epoch);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, BrokerHeartbeatRequest& m) {
  io.field("broker_id", m.broker_id);
  io.field("broker_epoch", m.broker_epoch);
  io.field("current_metadata_offset", m.current_metadata_offset);
  io.field("want_fence", m.want_fence);
  io.field("want_shut_down", m.want_shut_down);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, BrokerHeartbeatResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("error_code", m.error_code);
  io.field("is_caught_up", m.is_caught_up);
  io.field("is_fenced", m.is_fenced);
  io.field("should_shut_down", m.should_shut_down);
  io.tags(m.unknown_tags);
}

}  // namespace seedlog::protocol::detail
