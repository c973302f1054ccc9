// Consumer groups (classic protocol): FindCoordinator v2, JoinGroup v5, SyncGroup v3,
// Heartbeat v3, LeaveGroup v1, OffsetCommit v7, OffsetFetch v5. None of these versions is
// flexible. See messages_common.hpp for the conventions.
#pragma once

#include "broker/protocol/messages_common.hpp"

namespace seedlog::protocol {

struct FindCoordinatorRequest {
  static constexpr ApiKey kApiKey = ApiKey::find_coordinator;
  static constexpr const char* kName = "FindCoordinatorRequest";
  std::string key;       // the group id (or transactional id)
  int8_t key_type = 0;   // 0 group, 1 transaction
  bool operator==(const FindCoordinatorRequest&) const = default;
};

struct FindCoordinatorResponse {
  static constexpr ApiKey kApiKey = ApiKey::find_coordinator;
  static constexpr const char* kName = "FindCoordinatorResponse";
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::none;
  std::optional<std::string> error_message;
  BrokerId node_id{-1};
  std::string host;
  int32_t port = 0;
  bool operator==(const FindCoordinatorResponse&) const = default;
};

struct JoinGroupRequest {
  static constexpr ApiKey kApiKey = ApiKey::join_group;
  static constexpr const char* kName = "JoinGroupRequest";
  struct Protocol {
    std::string name;  // an assignor, e.g. "range"
    Bytes metadata;    // the member's subscription, opaque to the coordinator
    bool operator==(const Protocol&) const = default;
  };
  std::string group_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string protocol_type;  // "consumer"
  std::vector<Protocol> protocols;
  bool operator==(const JoinGroupRequest&) const = default;
};

struct JoinGroupResponse {
  static constexpr ApiKey kApiKey = ApiKey::join_group;
  static constexpr const char* kName = "JoinGroupResponse";
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    Bytes metadata;
    bool operator==(const Member&) const = default;
  };
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::none;
  GenerationId generation_id{-1};
  std::string protocol_name;
  std::string leader;
  std::string member_id;
  std::vector<Member> members;  // only the leader receives the members
  bool operator==(const JoinGroupResponse&) const = default;
};

struct SyncGroupRequest {
  static constexpr ApiKey kApiKey = ApiKey::sync_group;
  static constexpr const char* kName = "SyncGroupRequest";
  struct Assignment {
    std::string member_id;
    Bytes assignment;
    bool operator==(const Assignment&) const = default;
  };
  std::string group_id;
  GenerationId generation_id{-1};
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<Assignment> assignments;  // sent by the leader only
  bool operator==(const SyncGroupRequest&) const = default;
};

struct SyncGroupResponse {
  static constexpr ApiKey kApiKey = ApiKey::sync_group;
  static constexpr const char* kName = "SyncGroupResponse";
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::none;
  Bytes assignment;
  bool operator==(const SyncGroupResponse&) const = default;
};

struct HeartbeatRequest {
  static constexpr ApiKey kApiKey = ApiKey::heartbeat;
  static constexpr const char* kName = "HeartbeatRequest";
  std::string group_id;
  GenerationId generation_id{-1};
  std::string member_id;
  std::optional<std::string> group_instance_id;
  bool operator==(const HeartbeatRequest&) const = default;
};

struct HeartbeatResponse {
  static constexpr ApiKey kApiKey = ApiKey::heartbeat;
  static constexpr const char* kName = "HeartbeatResponse";
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::none;
  bool operator==(const HeartbeatResponse&) const = default;
};

struct LeaveGroupRequest {
  static constexpr ApiKey kApiKey = ApiKey::leave_group;
  static constexpr const char* kName = "LeaveGroupRequest";
  std::string group_id;
  std::string member_id;
  bool operator==(const LeaveGroupRequest&) const = default;
};

struct LeaveGroupResponse {
  static constexpr ApiKey kApiKey = ApiKey::leave_group;
  static constexpr const char* kName = "LeaveGroupResponse";
  int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::none;
  bool operator==(const LeaveGroupResponse&) const = default;
};

struct OffsetCommitRequest {
  static constexpr ApiKey kApiKey = ApiKey::offset_commit;
  static constexpr const char* kName = "OffsetCommitRequest";
  struct Partition {
    int32_t partition_index = 0;
    Offset committed_offset{-1};
    LeaderEpoch committed_leader_epoch{-1};
    std::optional<std::string> committed_metadata;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };
  std::string group_id;
  GenerationId generation_id{-1};
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<Topic> topics;
  bool operator==(const OffsetCommitRequest&) const = default;
};

struct OffsetCommitResponse {
  static constexpr ApiKey kApiKey = ApiKey::offset_commit;
  static constexpr const char* kName = "OffsetCommitResponse";
  struct Partition {
    int32_t partition_index = 0;
    ErrorCode error_code = ErrorCode::none;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
  bool operator==(const OffsetCommitResponse&) const = default;
};

struct OffsetFetchRequest {
  static constexpr ApiKey kApiKey = ApiKey::offset_fetch;
  static constexpr const char* kName = "OffsetFetchRequest";
  struct Topic {
    std::string name;
    std::vector<int32_t> partition_indexes;
    bool operator==(const Topic&) const = default;
  };
  std::string group_id;
  std::optional<std::vector<Topic>> topics;  // null = every committed offset of the group
  bool operator==(const OffsetFetchRequest&) const = default;
};

struct OffsetFetchResponse {
  static constexpr ApiKey kApiKey = ApiKey::offset_fetch;
  static constexpr const char* kName = "OffsetFetchResponse";
  struct Partition {
    int32_t partition_index = 0;
    Offset committed_offset{-1};
    LeaderEpoch committed_leader_epoch{-1};
    std::optional<std::string> metadata;
    ErrorCode error_code = ErrorCode::none;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
  ErrorCode error_code = ErrorCode::none;
  bool operator==(const OffsetFetchResponse&) const = default;
};

}  // namespace seedlog::protocol
