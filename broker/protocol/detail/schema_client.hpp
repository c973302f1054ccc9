// Field-by-field schemas of the client data path messages (messages_client.hpp), at the versions
// of api.cpp. Field order is wire order. INTERNAL: see schema_io.hpp.
#pragma once

#include "broker/protocol/detail/schema_common.hpp"
#include "broker/protocol/messages_client.hpp"

namespace seedlog::protocol::detail {

// ---- ApiVersions v0-v3 ---------------------------------------------------------------------

template <class Io>
void schema_fields(Io& io, ApiVersionsRequest& m) {
  if (io.version() >= 3) {
    io.field("client_software_name", m.client_software_name);
    io.field("client_software_version", m.client_software_version);
  }
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, ApiVersionsResponse::ApiVersion& m) {
  io.field("api_key", m.api_key);
  io.field("min_version", m.min_version);
  io.field("max_version", m.max_version);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, ApiVersionsResponse::SupportedFeature& m) {
  io.field("name", m.name);
  io.field("min_version", m.min_version);
  io.field("max_version", m.max_version);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, ApiVersionsResponse::FinalizedFeature& m) {
  io.field("name", m.name);
  io.field("max_version_level", m.max_version_level);
  io.field("min_version_level", m.min_version_level);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, ApiVersionsResponse& m) {
  io.field("error_code", m.error_code);
  io.field("api_keys", m.api_keys);
  if (io.version() >= 1) io.field("throttle_time_ms", m.throttle_time_ms);
  io.tags(m.unknown_tags, tag(0, "supported_features", m.supported_features),
          tag(1, "finalized_features_epoch", m.finalized_features_epoch),
          tag(2, "finalized_features", m.finalized_features),
          tag(3, "zk_migration_ready", m.zk_migration_ready));
}

// ---- Metadata v2-v7 ------------------------------------------------------------------------

template <class Io>
void schema_fields(Io& io, MetadataRequest::Topic& m) {
  io.field("name", m.name);
}

template <class Io>
void schema_fields(Io& io, MetadataRequest& m) {
  io.field("topics", m.topics);
  if (io.version() >= 4) io.field("allow_auto_topic_creation", m.allow_auto_topic_creation);
}

template <class Io>
void schema_fields(Io& io, MetadataResponse::Broker& m) {
  io.field("node_id", m.node_id);
  io.field("host", m.host);
  io.field("port", m.port);
  io.field("rack", m.rack);
}

template <class Io>
void schema_fields(Io& io, MetadataResponse::Partition& m) {
  io.field("error_code", m.error_code);
  io.field("partition_index", m.partition_index);
  io.field("leader_id", m.leader_id);
  if (io.version() >= 7) io.field("leader_epoch", m.leader_epoch);
  io.field("replica_nodes", m.replica_nodes);
  io.field("isr_nodes", m.isr_nodes);
  if (io.version() >= 5) io.field("offline_replicas", m.offline_replicas);
}

template <class Io>
void schema_fields(Io& io, MetadataResponse::Topic& m) {
  io.field("error_code", m.error_code);
  io.field("name", m.name);
  io.field("is_internal", m.is_internal);
  io.field("partitions", m.partitions);
}

template <class Io>
void schema_fields(Io& io, MetadataResponse& m) {
  if (io.version() >= 3) io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("brokers", m.brokers);
  io.field("cluster_id", m.cluster_id);
  io.field("controller_id", m.controller_id);
  io.field("topics", m.topics);
}

// ---- Produce v7 ----------------------------------------------------------------------------

template <class Io>
void schema_fields(Io& io, ProduceRequest::Partition& m) {
  io.field("index", m.index);
  io.field("records", m.records);
}

template <class Io>
void schema_fields(Io& io, ProduceRequest::Topic& m) {
  io.field("name", m.name);
  io.field("partitions", m.partitions);
}

template <class Io>
void schema_fields(Io& io, ProduceRequest& m) {
  io.field("transactional_id", m.transactional_id);
  io.field("acks", m.acks);
  io.field("timeout_ms", m.timeout_ms);
  io.field("topics", m.topics);
}

template <class Io>
void schema_fields(Io& io, ProduceResponse::Partition& m) {
  io.field("index", m.index);
  io.field("error_code", m.error_code);
  io.field("base_offset", m.base_offset);
  io.field("log_append_time_ms", m.log_append_time_ms);
  io.field("log_start_offset", m.log_start_offset);
}

template <class Io>
void schema_fields(Io& io, ProduceResponse::Topic& m) {
  io.field("name", m.name);
  io.field("partitions", m.partitions);
}

template <class Io>
void schema_fields(Io& io, ProduceResponse& m) {
  io.field("responses", m.responses);
  io.field("throttle_time_ms", m.throttle_time_ms);
}

// ---- Fetch v11-v15 -------------------------------------------------------------------------

template <class Io>
void schema_fields(Io& io, FetchRequest::Partition& m) {
  io.field("partition", m.partition);
  io.field("current_leader_epoch", m.current_leader_epoch);
  io.field("fetch_offset", m.fetch_offset);
  if (io.version() >= 12) io.field("last_fetched_epoch", m.last_fetched_epoch);
  io.field("log_start_offset", m.log_start_offset);
  io.field("partition_max_bytes", m.partition_max_bytes);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, FetchRequest::Topic& m) {
  if (io.version() <= 12) {
    io.field("topic", m.topic);
  } else {
    io.field("topic_id", m.topic_id);
  }
  io.field("partitions", m.partitions);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, FetchRequest::ForgottenTopic& m) {
  if (io.version() <= 12) {
    io.field("topic", m.topic);
  } else {
    io.field("topic_id", m.topic_id);
  }
  io.field("partitions", m.partitions);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, FetchReplicaState& m) {
  io.field("replica_id", m.replica_id);
  io.field("replica_epoch", m.replica_epoch);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, FetchRequest& m) {
  if (io.version() <= 14) io.field("replica_id", m.replica_id);
  io.field("max_wait_ms", m.max_wait_ms);
  io.field("min_bytes", m.min_bytes);
  io.field("max_bytes", m.max_bytes);
  io.field("isolation_level", m.isolation_level);
  io.field("session_id", m.session_id);
  io.field("session_epoch", m.session_epoch);
  io.field("topics", m.topics);
  io.field("forgotten_topics_data", m.forgotten_topics_data);
  io.field("rack_id", m.rack_id);
  if (io.version() >= 15) {
    io.tags(m.unknown_tags, tag(0, "cluster_id", m.cluster_id),
            tag(1, "replica_state", m.replica_state));
  } else {
    io.tags(m.unknown_tags, tag(0, "cluster_id", m.cluster_id));
  }
}

template <class Io>
void schema_fields(Io& io, FetchResponse::AbortedTransaction& m) {
  io.field("producer_id", m.producer_id);
  io.field("first_offset", m.first_offset);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, FetchResponse::Partition& m) {
  io.field("partition_index", m.partition_index);
  io.field("error_code", m.error_code);
  io.field("high_watermark", m.high_watermark);
  io.field("last_stable_offset", m.last_stable_offset);
  io.field("log_start_offset", m.log_start_offset);
  io.field("aborted_transactions", m.aborted_transactions);
  io.field("preferred_read_replica", m.preferred_read_replica);
  io.field("records", m.records);
  io.tags(m.unknown_tags, tag(0, "diverging_epoch", m.diverging_epoch),
          tag(1, "current_leader", m.current_leader), tag(2, "snapshot_id", m.snapshot_id));
}

template <class Io>
void schema_fields(Io& io, FetchResponse::Topic& m) {
  if (io.version() <= 12) {
    io.field("topic", m.topic);
  } else {
    io.field("topic_id", m.topic_id);
  }
  io.field("partitions", m.partitions);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, FetchResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("error_code", m.error_code);
  io.field("session_id", m.session_id);
  io.field("responses", m.responses);
  io.tags(m.unknown_tags);
}

// ---- ListOffsets v2 ------------------------------------------------------------------------

template <class Io>
void schema_fields(Io& io, ListOffsetsRequest::Partition& m) {
  io.field("partition_index", m.partition_index);
  io.field("timestamp", m.timestamp);
}

template <class Io>
void schema_fields(Io& io, ListOffsetsRequest::Topic& m) {
  io.field("name", m.name);
  io.field("partitions", m.partitions);
}

template <class Io>
void schema_fields(Io& io, ListOffsetsRequest& m) {
  io.field("replica_id", m.replica_id);
  io.field("isolation_level", m.isolation_level);
  io.field("topics", m.topics);
}

template <class Io>
void schema_fields(Io& io, ListOffsetsResponse::Partition& m) {
  io.field("partition_index", m.partition_index);
  io.field("error_code", m.error_code);
  io.field("timestamp", m.timestamp);
  io.field("offset", m.offset);
}

template <class Io>
void schema_fields(Io& io, ListOffsetsResponse::Topic& m) {
  io.field("name", m.name);
  io.field("partitions", m.partitions);
}

template <class Io>
void schema_fields(Io& io, ListOffsetsResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("topics", m.topics);
}

// ---- OffsetForLeaderEpoch v3-v4 ------------------------------------------------------------

template <class Io>
void schema_fields(Io& io, OffsetForLeaderEpochRequest::Partition& m) {
  io.field("partition", m.partition);
  io.field("current_leader_epoch", m.current_leader_epoch);
  io.field("leader_epoch", m.leader_epoch);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, OffsetForLeaderEpochRequest::Topic& m) {
  io.field("topic", m.topic);
  io.field("partitions", m.partitions);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, OffsetForLeaderEpochRequest& m) {
  io.field("replica_id", m.replica_id);
  io.field("topics", m.topics);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, OffsetForLeaderEpochResponse::Partition& m) {
  io.field("error_code", m.error_code);
  io.field("partition", m.partition);
  io.field("leader_epoch", m.leader_epoch);
  io.field("end_offset", m.end_offset);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, OffsetForLeaderEpochResponse::Topic& m) {
  io.field("topic", m.topic);
  io.field("partitions", m.partitions);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, OffsetForLeaderEpochResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("topics", m.topics);
  io.tags(m.unknown_tags);
}

// ---- InitProducerId v3-v4 ------------------------------------------------------------------

template <class Io>
void schema_fields(Io& io, InitProducerIdRequest& m) {
  io.field("transactional_id", m.transactional_id);
  io.field("transaction_timeout_ms", m.transaction_timeout_ms);
  io.field("producer_id", m.producer_id);
  io.field("producer_epoch", m.producer_epoch);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, InitProducerIdResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("error_code", m.error_code);
  io.field("producer_id", m.producer_id);
  io.field("producer_epoch", m.producer_epoch);
  io.tags(m.unknown_tags);
}

}  // namespace seedlog::protocol::detail
