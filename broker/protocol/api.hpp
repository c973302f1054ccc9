// Kafka API keys, the (api key, version) pairs this library implements, and the header rules.
//
// Versions are pinned: each API is implemented at the versions listed in supported_apis(), chosen
// in docs/protocol.md (what librdkafka 2.0.2 negotiates for the client APIs; the versions that
// carry divergingEpoch, broker epochs and KRaft's fields for the inter-broker and controller
// APIs). A broker answers ApiVersions from this table; anything outside it is refused with
// UNSUPPORTED_VERSION.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace seedlog::protocol {

// X(number, identifier, KafkaName): every standard API key, so reports can name any frame.
#define SEEDLOG_KAFKA_API_KEYS(X) \
  X(0, produce, "Produce") \
  X(1, fetch, "Fetch") \
  X(2, list_offsets, "ListOffsets") \
  X(3, metadata, "Metadata") \
  X(4, leader_and_isr, "LeaderAndIsr") \
  X(5, stop_replica, "StopReplica") \
  X(6, update_metadata, "UpdateMetadata") \
  X(7, controlled_shutdown, "ControlledShutdown") \
  X(8, offset_commit, "OffsetCommit") \
  X(9, offset_fetch, "OffsetFetch") \
  X(10, find_coordinator, "FindCoordinator") \
  X(11, join_group, "JoinGroup") \
  X(12, heartbeat, "Heartbeat") \
  X(13, leave_group, "LeaveGroup") \
  X(14, sync_group, "SyncGroup") \
  X(15, describe_groups, "DescribeGroups") \
  X(16, list_groups, "ListGroups") \
  X(17, sasl_handshake, "SaslHandshake") \
  X(18, api_versions, "ApiVersions") \
  X(19, create_topics, "CreateTopics") \
  X(20, delete_topics, "DeleteTopics") \
  X(21, delete_records, "DeleteRecords") \
  X(22, init_producer_id, "InitProducerId") \
  X(23, offset_for_leader_epoch, "OffsetForLeaderEpoch") \
  X(24, add_partitions_to_txn, "AddPartitionsToTxn") \
  X(25, add_offsets_to_txn, "AddOffsetsToTxn") \
  X(26, end_txn, "EndTxn") \
  X(27, write_txn_markers, "WriteTxnMarkers") \
  X(28, txn_offset_commit, "TxnOffsetCommit") \
  X(29, describe_acls, "DescribeAcls") \
  X(30, create_acls, "CreateAcls") \
  X(31, delete_acls, "DeleteAcls") \
  X(32, describe_configs, "DescribeConfigs") \
  X(33, alter_configs, "AlterConfigs") \
  X(34, alter_replica_log_dirs, "AlterReplicaLogDirs") \
  X(35, describe_log_dirs, "DescribeLogDirs") \
  X(36, sasl_authenticate, "SaslAuthenticate") \
  X(37, create_partitions, "CreatePartitions") \
  X(38, create_delegation_token, "CreateDelegationToken") \
  X(39, renew_delegation_token, "RenewDelegationToken") \
  X(40, expire_delegation_token, "ExpireDelegationToken") \
  X(41, describe_delegation_token, "DescribeDelegationToken") \
  X(42, delete_groups, "DeleteGroups") \
  X(43, elect_leaders, "ElectLeaders") \
  X(44, incremental_alter_configs, "IncrementalAlterConfigs") \
  X(45, alter_partition_reassignments, "AlterPartitionReassignments") \
  X(46, list_partition_reassignments, "ListPartitionReassignments") \
  X(47, offset_delete, "OffsetDelete") \
  X(48, describe_client_quotas, "DescribeClientQuotas") \
  X(49, alter_client_quotas, "AlterClientQuotas") \
  X(50, describe_user_scram_credentials, "DescribeUserScramCredentials") \
  X(51, alter_user_scram_credentials, "AlterUserScramCredentials") \
  X(52, vote, "Vote") \
  X(53, begin_quorum_epoch, "BeginQuorumEpoch") \
  X(54, end_quorum_epoch, "EndQuorumEpoch") \
  X(55, describe_quorum, "DescribeQuorum") \
  X(56, alter_partition, "AlterPartition") \
  X(57, update_features, "UpdateFeatures") \
  X(58, envelope, "Envelope") \
  X(59, fetch_snapshot, "FetchSnapshot") \
  X(60, describe_cluster, "DescribeCluster") \
  X(61, describe_producers, "DescribeProducers") \
  X(62, broker_registration, "BrokerRegistration") \
  X(63, broker_heartbeat, "BrokerHeartbeat") \
  X(64, unregister_broker, "UnregisterBroker") \
  X(65, describe_transactions, "DescribeTransactions") \
  X(66, list_transactions, "ListTransactions") \
  X(67, allocate_producer_ids, "AllocateProducerIds") \
  X(68, consumer_group_heartbeat, "ConsumerGroupHeartbeat") \
  X(69, consumer_group_describe, "ConsumerGroupDescribe") \
  X(70, controller_registration, "ControllerRegistration") \
  X(71, get_telemetry_subscriptions, "GetTelemetrySubscriptions") \
  X(72, push_telemetry, "PushTelemetry") \
  X(73, assign_replicas_to_dirs, "AssignReplicasToDirs") \
  X(74, list_client_metrics_resources, "ListClientMetricsResources") \
  X(75, describe_topic_partitions, "DescribeTopicPartitions")

enum class ApiKey : int16_t {
#define SEEDLOG_X(number, ident, name) ident = (number),
  SEEDLOG_KAFKA_API_KEYS(SEEDLOG_X)
#undef SEEDLOG_X
};

// "Produce"; empty for a key not in the table.
std::string_view api_name(ApiKey key);
// The name, or "ApiKey(n)" for a key not in the table.
std::string to_string(ApiKey key);

struct ApiSupport {
  ApiKey api_key;
  int16_t min_version;
  int16_t max_version;
  int16_t first_flexible_version;  // KIP-482 compact encodings and tagged fields from here on
};

// Every API this library implements, ordered by api key.
std::span<const ApiSupport> supported_apis();
std::optional<ApiSupport> find_api(ApiKey key);
bool is_supported(ApiKey key, int16_t version);
// REQUIRES: find_api(key)
bool is_flexible(ApiKey key, int16_t version);

// Request header v1 (api key, version, correlation id, nullable client id) for non-flexible
// versions, v2 (plus tagged fields) for flexible ones.
// REQUIRES: find_api(key)
int16_t request_header_version(ApiKey key, int16_t version);
// Response header v0 (correlation id) or v1 (plus tagged fields). ApiVersions responses always use
// v0, even at flexible versions, so that a client can read an UNSUPPORTED_VERSION answer.
int16_t response_header_version(ApiKey key, int16_t version);

}  // namespace seedlog::protocol
