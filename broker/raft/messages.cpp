#include "broker/raft/messages.hpp"

#include "sim/assert.hpp"

namespace seedlog::broker::raft {

namespace proto = seedlog::protocol;
using proto::ErrorCode;

proto::Uuid metadata_topic_id() {
  proto::Uuid id;
  id.bytes[15] = 1;  // Kafka's Uuid.METADATA_TOPIC_ID
  return id;
}

namespace {

bool is_metadata_topic(const std::string& name) { return name == kMetadataTopic; }

}  // namespace

// ---- Vote ----------------------------------------------------------------------------------------

proto::VoteRequest vote_request(const VoteArgs& a) {
  SL_ASSERT(a.candidate_epoch.value() >= 0);
  SL_ASSERT(a.candidate.value() >= 0);
  proto::VoteRequest::Partition p;
  p.partition_index = kMetadataPartition;
  p.candidate_epoch = a.candidate_epoch;
  p.candidate_id = a.candidate;
  p.last_offset_epoch = a.last_epoch;
  p.last_offset = a.end_offset;
  if (a.pre_vote) p.unknown_tags.push_back(proto::RawTaggedField{kPreVoteTag, proto::Bytes{1}});
  proto::VoteRequest r;
  r.cluster_id = a.cluster_id;
  r.topics.push_back(proto::VoteRequest::Topic{kMetadataTopic, {p}, {}});
  return r;
}

std::optional<VoteArgs> read_vote_request(const proto::VoteRequest& r) {
  if (r.topics.size() != 1 || !is_metadata_topic(r.topics[0].topic_name)) return std::nullopt;
  if (r.topics[0].partitions.size() != 1) return std::nullopt;
  const proto::VoteRequest::Partition& p = r.topics[0].partitions[0];
  if (p.partition_index != kMetadataPartition) return std::nullopt;
  VoteArgs a;
  a.cluster_id = r.cluster_id.value_or("");
  a.candidate_epoch = p.candidate_epoch;
  a.candidate = p.candidate_id;
  a.last_epoch = p.last_offset_epoch;
  a.end_offset = p.last_offset;
  for (const proto::RawTaggedField& t : p.unknown_tags) {
    if (t.tag == kPreVoteTag && t.data.size() == 1 && t.data[0] == 1) a.pre_vote = true;
  }
  return a;
}

proto::VoteResponse vote_response(ErrorCode top, ErrorCode error, LeaderInfo info, bool granted) {
  proto::VoteResponse::Partition p;
  p.partition_index = kMetadataPartition;
  p.error_code = error;
  p.leader_id = info.leader;
  p.leader_epoch = info.epoch;
  p.vote_granted = granted;
  proto::VoteResponse r;
  r.error_code = top;
  r.topics.push_back(proto::VoteResponse::Topic{kMetadataTopic, {p}, {}});
  return r;
}

std::optional<VoteAnswer> read_vote_response(const proto::VoteResponse& r) {
  if (r.error_code != ErrorCode::none) return VoteAnswer{r.error_code, {}, false};
  if (r.topics.size() != 1 || r.topics[0].partitions.size() != 1) return std::nullopt;
  const proto::VoteResponse::Partition& p = r.topics[0].partitions[0];
  return VoteAnswer{p.error_code, LeaderInfo{p.leader_epoch, p.leader_id}, p.vote_granted};
}

// ---- BeginQuorumEpoch / EndQuorumEpoch --------------------------------------------------------------

proto::BeginQuorumEpochRequest begin_quorum_epoch_request(const std::string& cluster_id, LeaderInfo info) {
  SL_ASSERT(info.leader.value() >= 0);
  proto::BeginQuorumEpochRequest r;
  r.cluster_id = cluster_id;
  r.topics.push_back({kMetadataTopic, {proto::BeginQuorumEpochRequest::Partition{kMetadataPartition, info.leader, info.epoch}}});
  return r;
}

std::optional<LeaderInfo> read_begin_quorum_epoch(const proto::BeginQuorumEpochRequest& r) {
  if (r.topics.size() != 1 || !is_metadata_topic(r.topics[0].topic_name)) return std::nullopt;
  if (r.topics[0].partitions.size() != 1) return std::nullopt;
  const auto& p = r.topics[0].partitions[0];
  if (p.partition_index != kMetadataPartition || p.leader_id.value() < 0) return std::nullopt;
  return LeaderInfo{p.leader_epoch, p.leader_id};
}

proto::EndQuorumEpochRequest end_quorum_epoch_request(const std::string& cluster_id, LeaderInfo info,
                                                      std::vector<proto::BrokerId> successors) {
  SL_ASSERT(info.leader.value() >= 0);
  proto::EndQuorumEpochRequest r;
  r.cluster_id = cluster_id;
  proto::EndQuorumEpochRequest::Partition p{kMetadataPartition, info.leader, info.epoch, std::move(successors)};
  r.topics.push_back({kMetadataTopic, {std::move(p)}});
  return r;
}

std::optional<EndQuorumArgs> read_end_quorum_epoch(const proto::EndQuorumEpochRequest& r) {
  if (r.topics.size() != 1 || !is_metadata_topic(r.topics[0].topic_name)) return std::nullopt;
  if (r.topics[0].partitions.size() != 1) return std::nullopt;
  const auto& p = r.topics[0].partitions[0];
  if (p.partition_index != kMetadataPartition) return std::nullopt;
  return EndQuorumArgs{LeaderInfo{p.leader_epoch, p.leader_id}, p.preferred_successors};
}

std::vector<proto::QuorumEpochTopicResult> quorum_epoch_result(ErrorCode error, LeaderInfo info) {
  return {proto::QuorumEpochTopicResult{
      kMetadataTopic, {proto::QuorumEpochPartitionResult{kMetadataPartition, error, info.leader, info.epoch}}}};
}

std::optional<proto::QuorumEpochPartitionResult> read_quorum_epoch_result(
    ErrorCode top, const std::vector<proto::QuorumEpochTopicResult>& topics) {
  if (top != ErrorCode::none) return proto::QuorumEpochPartitionResult{kMetadataPartition, top, {}, {}};
  if (topics.size() != 1 || topics[0].partitions.size() != 1) return std::nullopt;
  return topics[0].partitions[0];
}

// ---- Fetch ---------------------------------------------------------------------------------------

proto::FetchRequest fetch_request(const FetchArgs& a) {
  SL_ASSERT(a.fetch_offset.value() >= 0);
  SL_ASSERT(a.replica.value() >= 0);
  proto::FetchRequest::Partition p;
  p.partition = kMetadataPartition;
  p.current_leader_epoch = a.current_epoch;
  p.fetch_offset = a.fetch_offset;
  p.last_fetched_epoch = a.last_fetched_epoch;
  p.log_start_offset = a.log_start_offset;
  p.partition_max_bytes = a.max_bytes;
  proto::FetchRequest r;
  r.cluster_id = a.cluster_id;
  r.replica_id = a.replica;
  r.max_wait_ms = a.max_wait_ms;
  r.min_bytes = 1;
  r.max_bytes = a.max_bytes;
  proto::FetchRequest::Topic t;
  t.topic = kMetadataTopic;
  t.topic_id = metadata_topic_id();
  t.partitions.push_back(p);
  r.topics.push_back(std::move(t));
  return r;
}

std::optional<FetchRequestView> read_fetch_request(const proto::FetchRequest& r) {
  if (r.topics.size() != 1 || r.topics[0].partitions.size() != 1) return std::nullopt;
  const proto::FetchRequest::Topic& t = r.topics[0];
  // v13+ names the topic by id, older versions by name.
  if (t.topic_id != metadata_topic_id() && !is_metadata_topic(t.topic)) return std::nullopt;
  if (t.partitions[0].partition != kMetadataPartition) return std::nullopt;
  FetchRequestView v;
  v.cluster_id = r.cluster_id;
  v.replica = r.replica_state ? r.replica_state->replica_id : r.replica_id;
  v.max_wait_ms = r.max_wait_ms;
  v.max_bytes = std::min(r.max_bytes, t.partitions[0].partition_max_bytes);
  v.partition = t.partitions[0];
  return v;
}

proto::FetchResponse fetch_response(ErrorCode top, proto::FetchResponse::Partition p) {
  p.partition_index = kMetadataPartition;
  proto::FetchResponse r;
  r.error_code = top;
  proto::FetchResponse::Topic t;
  t.topic = kMetadataTopic;
  t.topic_id = metadata_topic_id();
  t.partitions.push_back(std::move(p));
  r.responses.push_back(std::move(t));
  return r;
}

std::optional<proto::FetchResponse::Partition> read_fetch_response(const proto::FetchResponse& r) {
  if (r.error_code != ErrorCode::none) {
    proto::FetchResponse::Partition p;
    p.error_code = r.error_code;
    return p;
  }
  if (r.responses.size() != 1 || r.responses[0].partitions.size() != 1) return std::nullopt;
  if (r.responses[0].partitions[0].partition_index != kMetadataPartition) return std::nullopt;
  return r.responses[0].partitions[0];
}

// ---- FetchSnapshot -------------------------------------------------------------------------------

proto::FetchSnapshotRequest fetch_snapshot_request(const FetchSnapshotArgs& a) {
  SL_ASSERT(a.position >= 0);
  SL_ASSERT(a.snapshot.end_offset.value() >= 0);
  proto::FetchSnapshotRequest::Partition p;
  p.partition = kMetadataPartition;
  p.current_leader_epoch = a.current_epoch;
  p.snapshot_id = a.snapshot;
  p.position = a.position;
  proto::FetchSnapshotRequest r;
  r.cluster_id = a.cluster_id;
  r.replica_id = a.replica;
  r.max_bytes = a.max_bytes;
  r.topics.push_back(proto::FetchSnapshotRequest::Topic{kMetadataTopic, {p}, {}});
  return r;
}

std::optional<FetchSnapshotView> read_fetch_snapshot_request(const proto::FetchSnapshotRequest& r) {
  if (r.topics.size() != 1 || !is_metadata_topic(r.topics[0].name)) return std::nullopt;
  if (r.topics[0].partitions.size() != 1) return std::nullopt;
  if (r.topics[0].partitions[0].partition != kMetadataPartition) return std::nullopt;
  return FetchSnapshotView{r.cluster_id, r.replica_id, r.max_bytes, r.topics[0].partitions[0]};
}

proto::FetchSnapshotResponse fetch_snapshot_response(ErrorCode top, proto::FetchSnapshotResponse::Partition p) {
  p.index = kMetadataPartition;
  proto::FetchSnapshotResponse r;
  r.error_code = top;
  r.topics.push_back(proto::FetchSnapshotResponse::Topic{kMetadataTopic, {std::move(p)}, {}});
  return r;
}

std::optional<proto::FetchSnapshotResponse::Partition> read_fetch_snapshot_response(
    const proto::FetchSnapshotResponse& r) {
  if (r.error_code != ErrorCode::none) {
    proto::FetchSnapshotResponse::Partition p;
    p.error_code = r.error_code;
    return p;
  }
  if (r.topics.size() != 1 || r.topics[0].partitions.size() != 1) return std::nullopt;
  return r.topics[0].partitions[0];
}

}  // namespace seedlog::broker::raft
