// Administration: CreateTopics v4 and CreatePartitions v1 (both non-flexible). See
// messages_common.hpp for the conventions.
#pragma once

#include "broker/protocol/messages_common.hpp"

namespace seedlog::protocol {

struct CreateTopicsRequest {
  static constexpr ApiKey kApiKey = ApiKey::create_topics;
  static constexpr const char* kName = "CreateTopicsRequest";
  struct Assignment {
    int32_t partition_index = 0;
    std::vector<BrokerId> broker_ids;
    bool operator==(const Assignment&) const = default;
  };
  struct Config {
    std::string name;
    std::optional<std::string> value;
    bool operator==(const Config&) const = default;
  };
  struct Topic {
    std::string name;
    int32_t num_partitions = -1;      // -1 with explicit assignments or the broker default
    int16_t replication_factor = -1;  // likewise
    std::vector<Assignment> assignments;
    std::vector<Config> configs;
    bool operator==(const Topic&) const = default;
  };
  std::vector<Topic> topics;
  int32_t timeout_ms = 60000;
  bool validate_only = false;
  bool operator==(const CreateTopicsRequest&) const = default;
};

struct CreateTopicsResponse {
  static constexpr ApiKey kApiKey = ApiKey::create_topics;
  static constexpr const char* kName = "CreateTopicsResponse";
  struct Topic {
    std::string name;
    ErrorCode error_code = ErrorCode::none;
    std::optional<std::string> error_message;
    bool operator==(const Topic&) const = default;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
  bool operator==(const CreateTopicsResponse&) const = default;
};

struct CreatePartitionsRequest {
  static constexpr ApiKey kApiKey = ApiKey::create_partitions;
  static constexpr const char* kName = "CreatePartitionsRequest";
  struct Assignment {
    std::vector<BrokerId> broker_ids;
    bool operator==(const Assignment&) const = default;
  };
  struct Topic {
    std::string name;
    int32_t count = 0;  // the new total partition count
    std::optional<std::vector<Assignment>> assignments;  // one per new partition, or null
    bool operator==(const Topic&) const = default;
  };
  std::vector<Topic> topics;
  int32_t timeout_ms = 0;
  bool validate_only = false;
  bool operator==(const CreatePartitionsRequest&) const = default;
};

struct CreatePartitionsResponse {
  static constexpr ApiKey kApiKey = ApiKey::create_partitions;
  static constexpr const char* kName = "CreatePartitionsResponse";
  struct Result {
    std::string name;
    ErrorCode error_code = ErrorCode::none;
    std::optional<std::string> error_message;
    bool operator==(const Result&) const = default;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Result> results;
  bool operator==(const CreatePartitionsResponse&) const = default;
};

}  // namespace seedlog::protocol
