// Codecs of the administration messages (see messages_client.cpp for why they live here).
#include "broker/protocol/detail/message_codec_impl.hpp"
#include "broker/protocol/detail/schema_admin.hpp"

namespace seedlog::protocol::detail {

SEEDLOG_INSTANTIATE_MESSAGE_CODEC(CreateTopicsRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(CreateTopicsResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(CreatePartitionsRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(CreatePartitionsResponse);

}  // namespace seedlog::protocol::detail
