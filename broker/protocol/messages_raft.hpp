// The controller side (KRaft): Vote v0, BeginQuorumEpoch v0, EndQuorumEpoch v0 (the last two are
// not flexible at v0 in Kafka's schema), AlterPartition v0-v3, FetchSnapshot v0,
// BrokerRegistration v0, BrokerHeartbeat v0. The metadata log itself is replicated with Fetch
// v12+ (messages_client.hpp), as KRaft does. See messages_common.hpp for the conventions.
#pragma once

#include "broker/protocol/messages_common.hpp"

namespace seedlog::protocol {

struct VoteRequest {
  static constexpr ApiKey kApiKey = ApiKey::vote;
  static constexpr const char* kName = "VoteRequest";
  struct Partition {
    int32_t partition_index = 0;
    LeaderEpoch candidate_epoch{-1};
    BrokerId candidate_id{-1};
    LeaderEpoch last_offset_epoch{-1};  // epoch of the candidate's last log entry
    Offset last_offset{-1};             // the candidate's log end offset
    UnknownTags unknown_tags;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string topic_name;
    std::vector<Partition> partitions;
    UnknownTags unknown_tags;
    bool operator==(const Topic&) const = default;
  };
  std::optional<std::string> cluster_id;
  std::vector<Topic> topics;
  UnknownTags unknown_tags;
  bool operator==(const VoteRequest&) const = default;
};

struct VoteResponse {
  static constexpr ApiKey kApiKey = ApiKey::vote;
  static constexpr const char* kName = "VoteResponse";
  struct Partition {
    int32_t partition_index = 0;
    ErrorCode error_code = ErrorCode::none;
    BrokerId leader_id{-1};
    LeaderEpoch leader_epoch{-1};
    bool vote_granted = false;
    UnknownTags unknown_tags;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string topic_name;
    std::vector<Partition> partitions;
    UnknownTags unknown_tags;
    bool operator==(const Topic&) const = default;
  };
  ErrorCode error_code = ErrorCode::none;
  std::vector<Topic> topics;
  UnknownTags unknown_tags;
  bool operator==(const VoteResponse&) const = default;
};

struct BeginQuorumEpochRequest {
  static constexpr ApiKey kApiKey = ApiKey::begin_quorum_epoch;
  static constexpr const char* kName = "BeginQuorumEpochRequest";
  struct Partition {
    int32_t partition_index = 0;
    BrokerId leader_id{-1};
    LeaderEpoch leader_epoch{-1};
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string topic_name;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };
  std::optional<std::string> cluster_id;
  std::vector<Topic> topics;
  bool operator==(const BeginQuorumEpochRequest&) const = default;
};

// The answer shape of BeginQuorumEpoch and EndQuorumEpoch v0.
struct QuorumEpochPartitionResult {
  int32_t partition_index = 0;
  ErrorCode error_code = ErrorCode::none;
  BrokerId leader_id{-1};
  LeaderEpoch leader_epoch{-1};
  bool operator==(const QuorumEpochPartitionResult&) const = default;
};

struct QuorumEpochTopicResult {
  std::string topic_name;
  std::vector<QuorumEpochPartitionResult> partitions;
  bool operator==(const QuorumEpochTopicResult&) const = default;
};

struct BeginQuorumEpochResponse {
  static constexpr ApiKey kApiKey = ApiKey::begin_quorum_epoch;
  static constexpr const char* kName = "BeginQuorumEpochResponse";
  ErrorCode error_code = ErrorCode::none;
  std::vector<QuorumEpochTopicResult> topics;
  bool operator==(const BeginQuorumEpochResponse&) const = default;
};

struct EndQuorumEpochRequest {
  static constexpr ApiKey kApiKey = ApiKey::end_quorum_epoch;
  static constexpr const char* kName = "EndQuorumEpochRequest";
  struct Partition {
    int32_t partition_index = 0;
    BrokerId leader_id{-1};  // the resigning leader
    LeaderEpoch leader_epoch{-1};
    std::vector<BrokerId> preferred_successors;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string topic_name;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };
  std::optional<std::string> cluster_id;
  std::vector<Topic> topics;
  bool operator==(const EndQuorumEpochRequest&) const = default;
};

struct EndQuorumEpochResponse {
  static constexpr ApiKey kApiKey = ApiKey::end_quorum_epoch;
  static constexpr const char* kName = "EndQuorumEpochResponse";
  ErrorCode error_code = ErrorCode::none;
  std::vector<QuorumEpochTopicResult> topics;
  bool operator==(const EndQuorumEpochResponse&) const = default;
};

// AlterPartition v0-v3: v1 adds leader_recovery_state (KIP-704), v2 replaces topic names with
// topic ids (KIP-841), v3 sends the broker epoch of every proposed ISR member (KIP-903).
struct AlterPartitionRequest {
  static constexpr ApiKey kApiKey = ApiKey::alter_partition;
  static constexpr const char* kName = "AlterPartitionRequest";
  struct BrokerState {
    BrokerId broker_id{-1};
    BrokerEpoch broker_epoch{-1};
    UnknownTags unknown_tags;
    bool operator==(const BrokerState&) const = default;
  };
  struct Partition {
    int32_t partition_index = 0;
    LeaderEpoch leader_epoch{-1};
    std::vector<BrokerId> new_isr;                   // v0-v2
    std::vector<BrokerState> new_isr_with_epochs;    // v3+
    int8_t leader_recovery_state = 0;                // v1+
    PartitionEpoch partition_epoch{-1};
    UnknownTags unknown_tags;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string topic_name;  // v0-v1
    Uuid topic_id;           // v2+
    std::vector<Partition> partitions;
    UnknownTags unknown_tags;
    bool operator==(const Topic&) const = default;
  };
  BrokerId broker_id{-1};
  BrokerEpoch broker_epoch{-1};
  std::vector<Topic> topics;
  UnknownTags unknown_tags;
  bool operator==(const AlterPartitionRequest&) const = default;
};

struct AlterPartitionResponse {
  static constexpr ApiKey kApiKey = ApiKey::alter_partition;
  static constexpr const char* kName = "AlterPartitionResponse";
  struct Partition {
    int32_t partition_index = 0;
    ErrorCode error_code = ErrorCode::none;
    BrokerId leader_id{-1};
    LeaderEpoch leader_epoch{-1};
    std::vector<BrokerId> isr;
    int8_t leader_recovery_state = 0;  // v1+
    PartitionEpoch partition_epoch{-1};
    UnknownTags unknown_tags;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string topic_name;  // v0-v1
    Uuid topic_id;           // v2+
    std::vector<Partition> partitions;
    UnknownTags unknown_tags;
    bool operator==(const Topic&) const = default;
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::none;
  std::vector<Topic> topics;
  UnknownTags unknown_tags;
  bool operator==(const AlterPartitionResponse&) const = default;
};

struct FetchSnapshotRequest {
  static constexpr ApiKey kApiKey = ApiKey::fetch_snapshot;
  static constexpr const char* kName = "FetchSnapshotRequest";
  struct Partition {
    int32_t partition = 0;
    LeaderEpoch current_leader_epoch{-1};
    SnapshotId snapshot_id;
    int64_t position = 0;  // byte position in the snapshot
    UnknownTags unknown_tags;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    UnknownTags unknown_tags;
    bool operator==(const Topic&) const = default;
  };
  std::optional<std::string> cluster_id;  // tag 0
  BrokerId replica_id{-1};
  int32_t max_bytes = 0x7fffffff;
  std::vector<Topic> topics;
  UnknownTags unknown_tags;
  bool operator==(const FetchSnapshotRequest&) const = default;
};

struct FetchSnapshotResponse {
  static constexpr ApiKey kApiKey = ApiKey::fetch_snapshot;
  static constexpr const char* kName = "FetchSnapshotResponse";
  struct Partition {
    int32_t index = 0;
    ErrorCode error_code = ErrorCode::none;
    SnapshotId snapshot_id;
    std::optional<LeaderIdAndEpoch> current_leader;  // tag 0
    int64_t size = 0;
    int64_t position = 0;
    Bytes unaligned_records;  // a slice of the snapshot, not aligned on batch boundaries
    UnknownTags unknown_tags;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    UnknownTags unknown_tags;
    bool operator==(const Topic&) const = default;
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::none;
  std::vector<Topic> topics;
  UnknownTags unknown_tags;
  bool operator==(const FetchSnapshotResponse&) const = default;
};

struct BrokerRegistrationRequest {
  static constexpr ApiKey kApiKey = ApiKey::broker_registration;
  static constexpr const char* kName = "BrokerRegistrationRequest";
  struct Listener {
    std::string name;
    std::string host;
    uint16_t port = 0;
    int16_t security_protocol = 0;  // 0 PLAINTEXT
    UnknownTags unknown_tags;
    bool operator==(const Listener&) const = default;
  };
  struct Feature {
    std::string name;
    int16_t min_supported_version = 0;
    int16_t max_supported_version = 0;
    UnknownTags unknown_tags;
    bool operator==(const Feature&) const = default;
  };
  BrokerId broker_id{-1};
  std::string cluster_id;
  Uuid incarnation_id;  // new on every process start
  std::vector<Listener> listeners;
  std::vector<Feature> features;
  std::optional<std::string> rack;
  UnknownTags unknown_tags;
  bool operator==(const BrokerRegistrationRequest&) const = default;
};

struct BrokerRegistrationResponse {
  static constexpr ApiKey kApiKey = ApiKey::broker_registration;
  static constexpr const char* kName = "BrokerRegistrationResponse";
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::none;
  BrokerEpoch broker_epoch{-1};
  UnknownTags unknown_tags;
  bool operator==(const BrokerRegistrationResponse&) const = default;
};

struct BrokerHeartbeatRequest {
  static constexpr ApiKey kApiKey = ApiKey::broker_heartbeat;
  static constexpr const char* kName = "BrokerHeartbeatRequest";
  BrokerId broker_id{-1};
  BrokerEpoch broker_epoch{-1};
  Offset current_metadata_offset{-1};
  bool want_fence = false;
  bool want_shut_down = false;
  UnknownTags unknown_tags;
  bool operator==(const BrokerHeartbeatRequest&) const = default;
};

struct BrokerHeartbeatResponse {
  static constexpr ApiKey kApiKey = ApiKey::broker_heartbeat;
  static constexpr const char* kName = "BrokerHeartbeatResponse";
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::none;
  bool is_caught_up = false;
  bool is_fenced = true;
  bool should_shut_down = false;
  UnknownTags unknown_tags;
  bool operator==(const BrokerHeartbeatResponse&) const = default;
};

}  // namespace seedlog::protocol
