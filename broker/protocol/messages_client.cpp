// Codecs of the client data path messages: the schemas of detail/schema_client.hpp instantiated
// once here, so that codec.cpp and other users never compile them.
#include "broker/protocol/detail/message_codec_impl.hpp"
#include "broker/protocol/detail/schema_client.hpp"

namespace seedlog::protocol::detail {

SEEDLOG_INSTANTIATE_MESSAGE_CODEC(ApiVersionsRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(ApiVersionsResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(MetadataRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(MetadataResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(ProduceRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(ProduceResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(FetchRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(FetchResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(ListOffsetsRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(ListOffsetsResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(OffsetForLeaderEpochRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(OffsetForLeaderEpochResponse);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(InitProducerIdRequest);
SEEDLOG_INSTANTIATE_MESSAGE_CODEC(InitProducerIdResponse);

}  // namespace seedlog::protocol::detail
