// Codecs of the consumer group messages (see messages_client.cpp for why they live here).
#include "broker/protocol/detail/message_codec_impl.hpp"
#include "broker/protocol/detail/schema_group.hpp"

namespace seedlog::protocol::detail {

SEEDLOG_INSTANTIATE_MESSAGE_CODEC(FindCoordinatorRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(FindCoordinatorResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(JoinGroupRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(JoinGroupResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(SyncGroupRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(SyncGroupResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(HeartbeatRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(HeartbeatResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(LeaveGroupRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(LeaveGroupResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(OffsetCommitRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(OffsetCommitResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(OffsetFetchRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(OffsetFetchResponse);

}  // namespace seedlog::protocol::detail
