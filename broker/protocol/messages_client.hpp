// The client data path: ApiVersions, Metadata, Produce, Fetch (client v11 and replication
// v12-v15), ListOffsets, OffsetForLeaderEpoch, InitProducerId. See messages_common.hpp for the
// conventions.
#pragma once

#include "broker/protocol/messages_common.hpp"

namespace seedlog::protocol {

// ApiVersions v0-v3 (v3 flexible). Request v0-v2 are empty.
struct ApiVersionsRequest {
  static constexpr ApiKey kApiKey = ApiKey::api_versions;
  static constexpr const char* kName = "ApiVersionsRequest";
  std::string client_software_name;     // v3+
  std::string client_software_version;  // v3+
  UnknownTags unknown_tags;
  bool operator==(const ApiVersionsRequest&) const = default;
};

struct ApiVersionsResponse {
  static constexpr ApiKey kApiKey = ApiKey::api_versions;
  static constexpr const char* kName = "ApiVersionsResponse";
  struct ApiVersion {
    ApiKey api_key{};
    int16_t min_version = 0;
    int16_t max_version = 0;
    UnknownTags unknown_tags;
    bool operator==(const ApiVersion&) const = default;
  };
  struct SupportedFeature {
    std::string name;
    int16_t min_version = 0;
    int16_t max_version = 0;
    UnknownTags unknown_tags;
    bool operator==(const SupportedFeature&) const = default;
  };
  struct FinalizedFeature {
    std::string name;
    int16_t max_version_level = 0;
    int16_t min_version_level = 0;
    UnknownTags unknown_tags;
    bool operator==(const FinalizedFeature&) const = default;
  };
  ErrorCode error_code = ErrorCode::none;
  std::vector<ApiVersion> api_keys;
  int32_t throttle_time_ms = 0;                                   // v1+
  std::optional<std::vector<SupportedFeature>> supported_features;  // tag 0, v3+
  std::optional<int64_t> finalized_features_epoch;                  // tag 1, v3+
  std::optional<std::vector<FinalizedFeature>> finalized_features;  // tag 2, v3+
  std::optional<bool> zk_migration_ready;                           // tag 3, v3+
  UnknownTags unknown_tags;
  bool operator==(const ApiVersionsResponse&) const = default;
};

// Metadata v2 (librdkafka 2.0.2) to v7 (v3 throttle time, v4 allow_auto_topic_creation, v5 offline
// replicas, v7 each partition's leader epoch: what a consumer sends as its current leader epoch,
// KIP-320).
struct MetadataRequest {
  static constexpr ApiKey kApiKey = ApiKey::metadata;
  static constexpr const char* kName = "MetadataRequest";
  struct Topic {
    std::string name;
    bool operator==(const Topic&) const = default;
  };
  std::optional<std::vector<Topic>> topics;  // null = all topics
  bool allow_auto_topic_creation = true;     // v4+; seedlog never creates topics on a Metadata request
  bool operator==(const MetadataRequest&) const = default;
};

struct MetadataResponse {
  static constexpr ApiKey kApiKey = ApiKey::metadata;
  static constexpr const char* kName = "MetadataResponse";
  struct Broker {
    BrokerId node_id{0};
    std::string host;
    int32_t port = 0;
    std::optional<std::string> rack;
    bool operator==(const Broker&) const = default;
  };
  struct Partition {
    ErrorCode error_code = ErrorCode::none;
    int32_t partition_index = 0;
    BrokerId leader_id{-1};
    LeaderEpoch leader_epoch{-1};  // v7+
    std::vector<BrokerId> replica_nodes;
    std::vector<BrokerId> isr_nodes;
    std::vector<BrokerId> offline_replicas;  // v5+
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    ErrorCode error_code = ErrorCode::none;
    std::string name;
    bool is_internal = false;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };
  int32_t throttle_time_ms = 0;  // v3+
  std::vector<Broker> brokers;
  std::optional<std::string> cluster_id;
  BrokerId controller_id{-1};
  std::vector<Topic> topics;
  bool operator==(const MetadataResponse&) const = default;
};

// Produce v7. `records` holds one or more RecordBatch v2 exactly as sent (record_batch.hpp).
struct ProduceRequest {
  static constexpr ApiKey kApiKey = ApiKey::produce;
  static constexpr const char* kName = "ProduceRequest";
  struct Partition {
    int32_t index = 0;
    std::optional<Bytes> records;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };
  std::optional<std::string> transactional_id;
  int16_t acks = -1;  // 0, 1, or -1 (all)
  int32_t timeout_ms = 0;
  std::vector<Topic> topics;
  bool operator==(const ProduceRequest&) const = default;
};

struct ProduceResponse {
  static constexpr ApiKey kApiKey = ApiKey::produce;
  static constexpr const char* kName = "ProduceResponse";
  struct Partition {
    int32_t index = 0;
    ErrorCode error_code = ErrorCode::none;
    Offset base_offset{-1};
    int64_t log_append_time_ms = -1;
    Offset log_start_offset{-1};
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };
  std::vector<Topic> responses;
  int32_t throttle_time_ms = 0;
  bool operator==(const ProduceResponse&) const = default;
};

// The follower's identity in Fetch v15+ (KIP-903). Declared outside FetchRequest because it is held
// in a std::optional there: clang 14 cannot see the default constructor of a nested class with
// member initializers from inside its enclosing class.
struct FetchReplicaState {
  BrokerId replica_id{-1};
  BrokerEpoch replica_epoch{-1};
  UnknownTags unknown_tags;
  bool operator==(const FetchReplicaState&) const = default;
};

// Fetch v11 (consumers) to v15 (replication: v12 adds flexible encodings, last_fetched_epoch and
// the diverging_epoch answer; v13 switches to topic ids; v15 sends the follower's broker epoch in
// replica_state instead of replica_id, KIP-903).
struct FetchRequest {
  static constexpr ApiKey kApiKey = ApiKey::fetch;
  static constexpr const char* kName = "FetchRequest";
  struct Partition {
    int32_t partition = 0;
    LeaderEpoch current_leader_epoch{-1};
    Offset fetch_offset{0};
    LeaderEpoch last_fetched_epoch{-1};  // v12+
    Offset log_start_offset{-1};
    int32_t partition_max_bytes = 0;
    UnknownTags unknown_tags;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string topic;  // v11-v12
    Uuid topic_id;      // v13+
    std::vector<Partition> partitions;
    UnknownTags unknown_tags;
    bool operator==(const Topic&) const = default;
  };
  struct ForgottenTopic {
    std::string topic;  // v11-v12
    Uuid topic_id;      // v13+
    std::vector<int32_t> partitions;
    UnknownTags unknown_tags;
    bool operator==(const ForgottenTopic&) const = default;
  };
  using ReplicaState = FetchReplicaState;
  std::optional<std::string> cluster_id;      // tag 0, v12+
  BrokerId replica_id{-1};                    // v11-v14; -1 for consumers
  std::optional<ReplicaState> replica_state;  // tag 1, v15+
  int32_t max_wait_ms = 0;
  int32_t min_bytes = 0;
  int32_t max_bytes = 0x7fffffff;
  int8_t isolation_level = 0;  // 0 read uncommitted, 1 read committed
  int32_t session_id = 0;
  int32_t session_epoch = -1;
  std::vector<Topic> topics;
  std::vector<ForgottenTopic> forgotten_topics_data;
  std::string rack_id;
  UnknownTags unknown_tags;
  bool operator==(const FetchRequest&) const = default;
};

struct FetchResponse {
  static constexpr ApiKey kApiKey = ApiKey::fetch;
  static constexpr const char* kName = "FetchResponse";
  struct AbortedTransaction {
    ProducerId producer_id{-1};
    Offset first_offset{-1};
    UnknownTags unknown_tags;
    bool operator==(const AbortedTransaction&) const = default;
  };
  struct Partition {
    int32_t partition_index = 0;
    ErrorCode error_code = ErrorCode::none;
    Offset high_watermark{-1};
    Offset last_stable_offset{-1};
    Offset log_start_offset{-1};
    std::optional<EpochEndOffset> diverging_epoch;    // tag 0, v12+
    std::optional<LeaderIdAndEpoch> current_leader;  // tag 1, v12+
    std::optional<SnapshotId> snapshot_id;           // tag 2, v12+
    std::optional<std::vector<AbortedTransaction>> aborted_transactions;
    BrokerId preferred_read_replica{-1};
    std::optional<Bytes> records;  // concatenated record batches; the last one may be partial
    UnknownTags unknown_tags;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string topic;  // v11-v12
    Uuid topic_id;      // v13+
    std::vector<Partition> partitions;
    UnknownTags unknown_tags;
    bool operator==(const Topic&) const = default;
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::none;
  int32_t session_id = 0;
  std::vector<Topic> responses;
  UnknownTags unknown_tags;
  bool operator==(const FetchResponse&) const = default;
};

// ListOffsets v2.
struct ListOffsetsRequest {
  static constexpr ApiKey kApiKey = ApiKey::list_offsets;
  static constexpr const char* kName = "ListOffsetsRequest";
  struct Partition {
    int32_t partition_index = 0;
    int64_t timestamp = -1;  // -1 latest, -2 earliest, else a timestamp in ms
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };
  BrokerId replica_id{-1};
  int8_t isolation_level = 0;
  std::vector<Topic> topics;
  bool operator==(const ListOffsetsRequest&) const = default;
};

struct ListOffsetsResponse {
  static constexpr ApiKey kApiKey = ApiKey::list_offsets;
  static constexpr const char* kName = "ListOffsetsResponse";
  struct Partition {
    int32_t partition_index = 0;
    ErrorCode error_code = ErrorCode::none;
    int64_t timestamp = -1;
    Offset offset{-1};
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
  bool operator==(const ListOffsetsResponse&) const = default;
};

// OffsetForLeaderEpoch v3 (replica id and current leader epoch) and v4 (the same, flexible).
struct OffsetForLeaderEpochRequest {
  static constexpr ApiKey kApiKey = ApiKey::offset_for_leader_epoch;
  static constexpr const char* kName = "OffsetForLeaderEpochRequest";
  struct Partition {
    int32_t partition = 0;
    LeaderEpoch current_leader_epoch{-1};
    LeaderEpoch leader_epoch{-1};
    UnknownTags unknown_tags;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string topic;
    std::vector<Partition> partitions;
    UnknownTags unknown_tags;
    bool operator==(const Topic&) const = default;
  };
  BrokerId replica_id{-2};  // -2: a debug consumer, -1: a consumer, else the follower's id
  std::vector<Topic> topics;
  UnknownTags unknown_tags;
  bool operator==(const OffsetForLeaderEpochRequest&) const = default;
};

struct OffsetForLeaderEpochResponse {
  static constexpr ApiKey kApiKey = ApiKey::offset_for_leader_epoch;
  static constexpr const char* kName = "OffsetForLeaderEpochResponse";
  struct Partition {
    ErrorCode error_code = ErrorCode::none;
    int32_t partition = 0;
    LeaderEpoch leader_epoch{-1};
    Offset end_offset{-1};
    UnknownTags unknown_tags;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string topic;
    std::vector<Partition> partitions;
    UnknownTags unknown_tags;
    bool operator==(const Topic&) const = default;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
  UnknownTags unknown_tags;
  bool operator==(const OffsetForLeaderEpochResponse&) const = default;
};

// InitProducerId v3 and v4 (identical layouts, flexible; v4 adds the PRODUCER_FENCED error).
struct InitProducerIdRequest {
  static constexpr ApiKey kApiKey = ApiKey::init_producer_id;
  static constexpr const char* kName = "InitProducerIdRequest";
  std::optional<std::string> transactional_id;
  int32_t transaction_timeout_ms = 0;
  ProducerId producer_id{-1};
  ProducerEpoch producer_epoch{-1};
  UnknownTags unknown_tags;
  bool operator==(const InitProducerIdRequest&) const = default;
};

struct InitProducerIdResponse {
  static constexpr ApiKey kApiKey = ApiKey::init_producer_id;
  static constexpr const char* kName = "InitProducerIdResponse";
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::none;
  ProducerId producer_id{-1};
  ProducerEpoch producer_epoch{0};
  UnknownTags unknown_tags;
  bool operator==(const InitProducerIdResponse&) const = default;
};

}  // namespace seedlog::protocol
