// Codecs of the controller-side messages (see messages_client.cpp for why they live here).
#include "broker/protocol/detail/message_codec_impl.hpp"
#include "broker/protocol/detail/schema_raft.hpp"

namespace seedlog::protocol::detail {

SEEDLOG_INSTANTIATE_MESSAGE_CODEC(VoteRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(VoteResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(BeginQuorumEpochRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(BeginQuorumEpochResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(EndQuorumEpochRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(EndQuorumEpochResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(AlterPartitionRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(AlterPartitionResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(FetchSnapshotRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(FetchSnapshotResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(BrokerRegistrationRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(BrokerRegistrationResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(BrokerHeartbeatRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(BrokerHeartbeatResponse);

}  // namespace seedlog::protocol::detail
