// Kafka's error codes (the protocol guide's table, by number and name), as a typed enum.
//
// Error codes travel inside responses as int16. Codes this table does not know (a newer broker)
// survive decoding unchanged: ErrorCode is an enum over int16, and to_string() prints them as
// UNKNOWN_ERROR_CODE(n). The retriable flag follows Kafka's RetriableException hierarchy: a client
// may retry the same request after refreshing metadata or backing off.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace seedlog::protocol {

// X(number, identifier, KAFKA_NAME, retriable)
#define SEEDLOG_KAFKA_ERROR_CODES(X) \
  X(-1, unknown_server_error, "UNKNOWN_SERVER_ERROR", false) \
  X(0, none, "NONE", false) \
  X(1, offset_out_of_range, "OFFSET_OUT_OF_RANGE", false) \
  X(2, corrupt_message, "CORRUPT_MESSAGE", true) \
  X(3, unknown_topic_or_partition, "UNKNOWN_TOPIC_OR_PARTITION", true) \
  X(4, invalid_fetch_size, "INVALID_FETCH_SIZE", false) \
  X(5, leader_not_available, "LEADER_NOT_AVAILABLE", true) \
  X(6, not_leader_or_follower, "NOT_LEADER_OR_FOLLOWER", true) \
  X(7, request_timed_out, "REQUEST_TIMED_OUT", true) \
  X(8, broker_not_available, "BROKER_NOT_AVAILABLE", false) \
  X(9, replica_not_available, "REPLICA_NOT_AVAILABLE", true) \
  X(10, message_too_large, "MESSAGE_TOO_LARGE", false) \
  X(11, stale_controller_epoch, "STALE_CONTROLLER_EPOCH", false) \
  X(12, offset_metadata_too_large, "OFFSET_METADATA_TOO_LARGE", false) \
  X(13, network_exception, "NETWORK_EXCEPTION", true) \
  X(14, coordinator_load_in_progress, "COORDINATOR_LOAD_IN_PROGRESS", true) \
  X(15, coordinator_not_available, "COORDINATOR_NOT_AVAILABLE", true) \
  X(16, not_coordinator, "NOT_COORDINATOR", true) \
  X(17, invalid_topic_exception, "INVALID_TOPIC_EXCEPTION", false) \
  X(18, record_list_too_large, "RECORD_LIST_TOO_LARGE", false) \
  X(19, not_enough_replicas, "NOT_ENOUGH_REPLICAS", true) \
  X(20, not_enough_replicas_after_append, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", true) \
  X(21, invalid_required_acks, "INVALID_REQUIRED_ACKS", false) \
  X(22, illegal_generation, "ILLEGAL_GENERATION", false) \
  X(23, inconsistent_group_protocol, "INCONSISTENT_GROUP_PROTOCOL", false) \
  X(24, invalid_group_id, "INVALID_GROUP_ID", false) \
  X(25, unknown_member_id, "UNKNOWN_MEMBER_ID", false) \
  X(26, invalid_session_timeout, "INVALID_SESSION_TIMEOUT", false) \
  X(27, rebalance_in_progress, "REBALANCE_IN_PROGRESS", false) \
  X(28, invalid_commit_offset_size, "INVALID_COMMIT_OFFSET_SIZE", false) \
  X(29, topic_authorization_failed, "TOPIC_AUTHORIZATION_FAILED", false) \
  X(30, group_authorization_failed, "GROUP_AUTHORIZATION_FAILED", false) \
  X(31, cluster_authorization_failed, "CLUSTER_AUTHORIZATION_FAILED", false) \
  X(32, invalid_timestamp, "INVALID_TIMESTAMP", false) \
  X(33, unsupported_sasl_mechanism, "UNSUPPORTED_SASL_MECHANISM", false) \
  X(34, illegal_sasl_state, "ILLEGAL_SASL_STATE", false) \
  X(35, unsupported_version, "UNSUPPORTED_VERSION", false) \
  X(36, topic_already_exists, "TOPIC_ALREADY_EXISTS", false) \
  X(37, invalid_partitions, "INVALID_PARTITIONS", false) \
  X(38, invalid_replication_factor, "INVALID_REPLICATION_FACTOR", false) \
  X(39, invalid_replica_assignment, "INVALID_REPLICA_ASSIGNMENT", false) \
  X(40, invalid_config, "INVALID_CONFIG", false) \
  X(41, not_controller, "NOT_CONTROLLER", true) \
  X(42, invalid_request, "INVALID_REQUEST", false) \
  X(43, unsupported_for_message_format, "UNSUPPORTED_FOR_MESSAGE_FORMAT", false) \
  X(44, policy_violation, "POLICY_VIOLATION", false) \
  X(45, out_of_order_sequence_number, "OUT_OF_ORDER_SEQUENCE_NUMBER", false) \
  X(46, duplicate_sequence_number, "DUPLICATE_SEQUENCE_NUMBER", false) \
  X(47, invalid_producer_epoch, "INVALID_PRODUCER_EPOCH", false) \
  X(48, invalid_txn_state, "INVALID_TXN_STATE", false) \
  X(49, invalid_producer_id_mapping, "INVALID_PRODUCER_ID_MAPPING", false) \
  X(50, invalid_transaction_timeout, "INVALID_TRANSACTION_TIMEOUT", false) \
  X(51, concurrent_transactions, "CONCURRENT_TRANSACTIONS", true) \
  X(52, transaction_coordinator_fenced, "TRANSACTION_COORDINATOR_FENCED", false) \
  X(53, transactional_id_authorization_failed, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", false) \
  X(54, security_disabled, "SECURITY_DISABLED", false) \
  X(55, operation_not_attempted, "OPERATION_NOT_ATTEMPTED", false) \
  X(56, kafka_storage_error, "KAFKA_STORAGE_ERROR", true) \
  X(57, log_dir_not_found, "LOG_DIR_NOT_FOUND", false) \
  X(58, sasl_authentication_failed, "SASL_AUTHENTICATION_FAILED", false) \
  X(59, unknown_producer_id, "UNKNOWN_PRODUCER_ID", false) \
  X(60, reassignment_in_progress, "REASSIGNMENT_IN_PROGRESS", false) \
  X(61, delegation_token_auth_disabled, "DELEGATION_TOKEN_AUTH_DISABLED", false) \
  X(62, delegation_token_not_found, "DELEGATION_TOKEN_NOT_FOUND", false) \
  X(63, delegation_token_owner_mismatch, "DELEGATION_TOKEN_OWNER_MISMATCH", false) \
  X(64, delegation_token_request_not_allowed, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", false) \
  X(65, delegation_token_authorization_failed, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", false) \
  X(66, delegation_token_expired, "DELEGATION_TOKEN_EXPIRED", false) \
  X(67, invalid_principal_type, "INVALID_PRINCIPAL_TYPE", false) \
  X(68, non_empty_group, "NON_EMPTY_GROUP", false) \
  X(69, group_id_not_found, "GROUP_ID_NOT_FOUND", false) \
  X(70, fetch_session_id_not_found, "FETCH_SESSION_ID_NOT_FOUND", true) \
  X(71, invalid_fetch_session_epoch, "INVALID_FETCH_SESSION_EPOCH", true) \
  X(72, listener_not_found, "LISTENER_NOT_FOUND", true) \
  X(73, topic_deletion_disabled, "TOPIC_DELETION_DISABLED", false) \
  X(74, fenced_leader_epoch, "FENCED_LEADER_EPOCH", true) \
  X(75, unknown_leader_epoch, "UNKNOWN_LEADER_EPOCH", true) \
  X(76, unsupported_compression_type, "UNSUPPORTED_COMPRESSION_TYPE", false) \
  X(77, stale_broker_epoch, "STALE_BROKER_EPOCH", false) \
  X(78, offset_not_available, "OFFSET_NOT_AVAILABLE", true) \
  X(79, member_id_required, "MEMBER_ID_REQUIRED", false) \
  X(80, preferred_leader_not_available, "PREFERRED_LEADER_NOT_AVAILABLE", true) \
  X(81, group_max_size_reached, "GROUP_MAX_SIZE_REACHED", false) \
  X(82, fenced_instance_id, "FENCED_INSTANCE_ID", false) \
  X(83, eligible_leaders_not_available, "ELIGIBLE_LEADERS_NOT_AVAILABLE", true) \
  X(84, election_not_needed, "ELECTION_NOT_NEEDED", true) \
  X(85, no_reassignment_in_progress, "NO_REASSIGNMENT_IN_PROGRESS", false) \
  X(86, group_subscribed_to_topic, "GROUP_SUBSCRIBED_TO_TOPIC", false) \
  X(87, invalid_record, "INVALID_RECORD", false) \
  X(88, unstable_offset_commit, "UNSTABLE_OFFSET_COMMIT", true) \
  X(89, throttling_quota_exceeded, "THROTTLING_QUOTA_EXCEEDED", true) \
  X(90, producer_fenced, "PRODUCER_FENCED", false) \
  X(91, resource_not_found, "RESOURCE_NOT_FOUND", false) \
  X(92, duplicate_resource, "DUPLICATE_RESOURCE", false) \
  X(93, unacceptable_credential, "UNACCEPTABLE_CREDENTIAL", false) \
  X(94, inconsistent_voter_set, "INCONSISTENT_VOTER_SET", false) \
  X(95, invalid_update_version, "INVALID_UPDATE_VERSION", false) \
  X(96, feature_update_failed, "FEATURE_UPDATE_FAILED", false) \
  X(97, principal_deserialization_failure, "PRINCIPAL_DESERIALIZATION_FAILURE", false) \
  X(98, snapshot_not_found, "SNAPSHOT_NOT_FOUND", false) \
  X(99, position_out_of_range, "POSITION_OUT_OF_RANGE", false) \
  X(100, unknown_topic_id, "UNKNOWN_TOPIC_ID", true) \
  X(101, duplicate_broker_registration, "DUPLICATE_BROKER_REGISTRATION", false) \
  X(102, broker_id_not_registered, "BROKER_ID_NOT_REGISTERED", false) \
  X(103, inconsistent_topic_id, "INCONSISTENT_TOPIC_ID", true) \
  X(104, inconsistent_cluster_id, "INCONSISTENT_CLUSTER_ID", false) \
  X(105, transactional_id_not_found, "TRANSACTIONAL_ID_NOT_FOUND", false) \
  X(106, fetch_session_topic_id_error, "FETCH_SESSION_TOPIC_ID_ERROR", true) \
  X(107, ineligible_replica, "INELIGIBLE_REPLICA", false) \
  X(108, new_leader_elected, "NEW_LEADER_ELECTED", false) \
  X(109, offset_moved_to_tiered_storage, "OFFSET_MOVED_TO_TIERED_STORAGE", false) \
  X(110, fenced_member_epoch, "FENCED_MEMBER_EPOCH", false) \
  X(111, unreleased_instance_id, "UNRELEASED_INSTANCE_ID", false) \
  X(112, unsupported_assignor, "UNSUPPORTED_ASSIGNOR", false) \
  X(113, stale_member_epoch, "STALE_MEMBER_EPOCH", false) \
  X(114, mismatched_endpoint_type, "MISMATCHED_ENDPOINT_TYPE", false) \
  X(115, unsupported_endpoint_type, "UNSUPPORTED_ENDPOINT_TYPE", false) \
  X(116, unknown_controller_id, "UNKNOWN_CONTROLLER_ID", false) \
  X(117, unknown_subscription_id, "UNKNOWN_SUBSCRIPTION_ID", false) \
  X(118, telemetry_too_large, "TELEMETRY_TOO_LARGE", false) \
  X(119, invalid_registration, "INVALID_REGISTRATION", false) \
  X(120, transaction_abortable, "TRANSACTION_ABORTABLE", false) \
  X(121, invalid_record_state, "INVALID_RECORD_STATE", false) \
  X(122, share_session_not_found, "SHARE_SESSION_NOT_FOUND", true) \
  X(123, invalid_share_session_epoch, "INVALID_SHARE_SESSION_EPOCH", true) \
  X(124, fenced_state_epoch, "FENCED_STATE_EPOCH", false) \
  X(125, invalid_voter_key, "INVALID_VOTER_KEY", false) \
  X(126, duplicate_voter, "DUPLICATE_VOTER", false) \
  X(127, voter_not_found, "VOTER_NOT_FOUND", false)

enum class ErrorCode : int16_t {
#define SEEDLOG_X(number, ident, name, retriable) ident = (number),
  SEEDLOG_KAFKA_ERROR_CODES(SEEDLOG_X)
#undef SEEDLOG_X
};

// "NOT_LEADER_OR_FOLLOWER"; empty for a code not in the table.
std::string_view error_name(ErrorCode code);
// The name, or "UNKNOWN_ERROR_CODE(n)" for a code not in the table.
std::string to_string(ErrorCode code);
bool is_known(ErrorCode code);
bool is_retriable(ErrorCode code);

}  // namespace seedlog::protocol
