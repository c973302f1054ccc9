// The Kafka messages of the quorum, built and read in one place (KIP-595 fields, our versions).
//
// The metadata partition is __cluster_metadata-0, topic id AAAAAAAAAAAAAAAAAAAAAQ (Kafka's fixed
// metadata topic id). Versions: Vote v0, BeginQuorumEpoch v0, EndQuorumEpoch v0, Fetch v13 (topic
// ids, replica_id, divergingEpoch / currentLeader / snapshotId tags), FetchSnapshot v0.
//
// Pre-vote: Vote v0 has no PreVote field (KIP-996 added one at v2). We carry it as a tagged field
// of the Vote partition (tag kPreVoteTag, one byte 1): v0 is flexible, and a peer that does not
// know the tag ignores it, as KIP-482 requires.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "broker/protocol/codec.hpp"

namespace seedlog::broker::raft {

inline constexpr const char* kMetadataTopic = "__cluster_metadata";
inline constexpr int32_t kMetadataPartition = 0;
inline constexpr int16_t kVoteVersion = 0;
inline constexpr int16_t kBeginQuorumEpochVersion = 0;
inline constexpr int16_t kEndQuorumEpochVersion = 0;
inline constexpr int16_t kFetchVersion = 13;
inline constexpr int16_t kFetchSnapshotVersion = 0;
inline constexpr uint32_t kPreVoteTag = 0;

protocol::Uuid metadata_topic_id();

// The (epoch, leader) a node reports in its answers; leader -1 when unknown.
struct LeaderInfo {
  protocol::LeaderEpoch epoch{0};
  protocol::BrokerId leader{-1};
};

// ---- Vote ----------------------------------------------------------------------------------
struct VoteArgs {
  std::string cluster_id;
  protocol::LeaderEpoch candidate_epoch{0};
  protocol::BrokerId candidate{-1};
  protocol::LeaderEpoch last_epoch{-1};
  protocol::Offset end_offset{0};
  bool pre_vote = false;
};
protocol::VoteRequest vote_request(const VoteArgs& a);
// The one partition of a Vote for __cluster_metadata-0; nullopt for anything else.
std::optional<VoteArgs> read_vote_request(const protocol::VoteRequest& r);
protocol::VoteResponse vote_response(protocol::ErrorCode top, protocol::ErrorCode error, LeaderInfo info, bool granted);
struct VoteAnswer {
  protocol::ErrorCode error = protocol::ErrorCode::none;
  LeaderInfo info;
  bool granted = false;
};
std::optional<VoteAnswer> read_vote_response(const protocol::VoteResponse& r);

// ---- BeginQuorumEpoch / EndQuorumEpoch ------------------------------------------------------
protocol::BeginQuorumEpochRequest begin_quorum_epoch_request(const std::string& cluster_id, LeaderInfo info);
std::optional<LeaderInfo> read_begin_quorum_epoch(const protocol::BeginQuorumEpochRequest& r);
protocol::EndQuorumEpochRequest end_quorum_epoch_request(const std::string& cluster_id, LeaderInfo info,
                                                         std::vector<protocol::BrokerId> successors);
struct EndQuorumArgs {
  LeaderInfo info;
  std::vector<protocol::BrokerId> successors;
};
std::optional<EndQuorumArgs> read_end_quorum_epoch(const protocol::EndQuorumEpochRequest& r);
std::vector<protocol::QuorumEpochTopicResult> quorum_epoch_result(protocol::ErrorCode error, LeaderInfo info);
// The one partition of a BeginQuorumEpoch / EndQuorumEpoch answer.
std::optional<protocol::QuorumEpochPartitionResult> read_quorum_epoch_result(
    protocol::ErrorCode top, const std::vector<protocol::QuorumEpochTopicResult>& topics);

// ---- Fetch ---------------------------------------------------------------------------------
struct FetchArgs {
  std::string cluster_id;
  protocol::BrokerId replica{-1};
  protocol::LeaderEpoch current_epoch{0};
  protocol::Offset fetch_offset{0};
  protocol::LeaderEpoch last_fetched_epoch{-1};
  protocol::Offset log_start_offset{0};
  int32_t max_wait_ms = 0;
  int32_t max_bytes = 1 << 20;
};
protocol::FetchRequest fetch_request(const FetchArgs& a);
// The cluster id (if sent) and the one partition of a Fetch for the metadata partition.
struct FetchRequestView {
  std::optional<std::string> cluster_id;
  protocol::BrokerId replica{-1};
  int32_t max_wait_ms = 0;
  int32_t max_bytes = 0;
  protocol::FetchRequest::Partition partition;
};
std::optional<FetchRequestView> read_fetch_request(const protocol::FetchRequest& r);
protocol::FetchResponse fetch_response(protocol::ErrorCode top, protocol::FetchResponse::Partition p);
// The partition of an answer (top-level errors are reported as the partition's error).
std::optional<protocol::FetchResponse::Partition> read_fetch_response(const protocol::FetchResponse& r);

// ---- FetchSnapshot -------------------------------------------------------------------------
struct FetchSnapshotArgs {
  std::string cluster_id;
  protocol::BrokerId replica{-1};
  protocol::LeaderEpoch current_epoch{0};
  protocol::SnapshotId snapshot;
  int64_t position = 0;
  int32_t max_bytes = 1 << 16;
};
protocol::FetchSnapshotRequest fetch_snapshot_request(const FetchSnapshotArgs& a);
struct FetchSnapshotView {
  std::optional<std::string> cluster_id;
  protocol::BrokerId replica{-1};
  int32_t max_bytes = 0;
  protocol::FetchSnapshotRequest::Partition partition;
};
std::optional<FetchSnapshotView> read_fetch_snapshot_request(const protocol::FetchSnapshotRequest& r);
protocol::FetchSnapshotResponse fetch_snapshot_response(protocol::ErrorCode top, protocol::FetchSnapshotResponse::Partition p);
std::optional<protocol::FetchSnapshotResponse::Partition> read_fetch_snapshot_response(
    const protocol::FetchSnapshotResponse& r);

}  // namespace seedlog::broker::raft
