// Kafka frames: size prefix, request/response headers, and every message body this library
// implements, with one dispatch on (api key, version).
//
// Wire shape (the protocol guide's "Common Request and Response Structure"):
//   frame    = int32 size, then `size` bytes
//   request  = header v1 (int16 api_key, int16 api_version, int32 correlation_id,
//              nullable int16-length client_id) or header v2 (v1 + tagged fields), then the body
//   response = header v0 (int32 correlation_id) or v1 (+ tagged fields), then the body
// The header version follows the body's flexibility (api.hpp); ApiVersions responses always use
// header v0.
//
// Kafka's ApiVersions rule: a server that does not support the requested ApiVersions version
// answers in the v0 format with UNSUPPORTED_VERSION (and its own ApiVersions range), so the
// client can retry lower. decode_response() therefore reads an ApiVersions response whose error
// code is UNSUPPORTED_VERSION as v0 (Response::api_version says which version was used), and
// unsupported_api_versions_response() builds that answer.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <variant>

#include "broker/protocol/messages_admin.hpp"
#include "broker/protocol/messages_client.hpp"
#include "broker/protocol/messages_group.hpp"
#include "broker/protocol/messages_raft.hpp"
#include "broker/protocol/result.hpp"

namespace seedlog::protocol {

using RequestBody =
    std::variant<ProduceRequest, FetchRequest, ListOffsetsRequest, MetadataRequest,
                 OffsetCommitRequest, OffsetFetchRequest, FindCoordinatorRequest, JoinGroupRequest,
                 HeartbeatRequest, LeaveGroupRequest, SyncGroupRequest, ApiVersionsRequest,
                 CreateTopicsRequest, InitProducerIdRequest, OffsetForLeaderEpochRequest,
                 CreatePartitionsRequest, VoteRequest, BeginQuorumEpochRequest,
                 EndQuorumEpochRequest, AlterPartitionRequest, FetchSnapshotRequest,
                 BrokerRegistrationRequest, BrokerHeartbeatRequest>;

using ResponseBody =
    std::variant<ProduceResponse, FetchResponse, ListOffsetsResponse, MetadataResponse,
                 OffsetCommitResponse, OffsetFetchResponse, FindCoordinatorResponse,
                 JoinGroupResponse, HeartbeatResponse, LeaveGroupResponse, SyncGroupResponse,
                 ApiVersionsResponse, CreateTopicsResponse, InitProducerIdResponse,
                 OffsetForLeaderEpochResponse, CreatePartitionsResponse, VoteResponse,
                 BeginQuorumEpochResponse, EndQuorumEpochResponse, AlterPartitionResponse,
                 FetchSnapshotResponse, BrokerRegistrationResponse, BrokerHeartbeatResponse>;

ApiKey api_key_of(const RequestBody& body);
ApiKey api_key_of(const ResponseBody& body);

struct RequestHeader {
  ApiKey api_key{};
  int16_t api_version = 0;
  CorrelationId correlation_id{0};
  std::optional<std::string> client_id;
  UnknownTags unknown_tags;  // header v2 only
  bool operator==(const RequestHeader&) const = default;
};

struct ResponseHeader {
  CorrelationId correlation_id{0};
  UnknownTags unknown_tags;  // header v1 only
  bool operator==(const ResponseHeader&) const = default;
};

struct Request {
  RequestHeader header;  // header.api_key must match the body's api key
  RequestBody body;
  bool operator==(const Request&) const = default;
};

struct Response {
  int16_t api_version = 0;  // the version the body is encoded at
  ResponseHeader header;
  ResponseBody body;
  ApiKey api_key() const { return api_key_of(body); }
  bool operator==(const Response&) const = default;
};

// Kafka's socket.request.max.bytes default: frames above it are refused before any allocation.
inline constexpr size_t kDefaultMaxFrameBytes = size_t{100} << 20;

// How many bytes the first frame of `stream` occupies, size prefix included; nullopt while the
// stream does not hold a whole frame yet. A negative size or one above max_frame_bytes is an
// error (the connection should be closed: framing is lost).
Result<std::optional<size_t>> frame_size(ByteView stream,
                                         size_t max_frame_bytes = kDefaultMaxFrameBytes);

// `frame` is one whole frame, size prefix included. Error offsets are offsets into `frame`.
// decode_request refuses unknown api keys (DecodeErrc::unknown_api) and unsupported versions
// (DecodeErrc::unsupported_version); a broker then answers with UNSUPPORTED_VERSION using the
// correlation id from peek_request_header(), which reads only the fixed header fields.
Result<RequestHeader> peek_request_header(ByteView frame,
                                          size_t max_frame_bytes = kDefaultMaxFrameBytes);
Result<Request> decode_request(ByteView frame, size_t max_frame_bytes = kDefaultMaxFrameBytes);
Bytes encode_request(const Request& request);

// A response is read in the context of its request: its api key and version.
Result<Response> decode_response(ByteView frame, ApiKey api_key, int16_t request_version,
                                 size_t max_frame_bytes = kDefaultMaxFrameBytes);
Bytes encode_response(const Response& response);

// Bodies alone (no size prefix, no header).
Result<RequestBody> decode_request_body(ApiKey api_key, int16_t version, ByteView body);
Bytes encode_request_body(const RequestBody& body, int16_t version);
Result<ResponseBody> decode_response_body(ApiKey api_key, int16_t version, ByteView body);
Bytes encode_response_body(const ResponseBody& body, int16_t version);

// The answer to a request whose ApiVersions version we do not support (v0 body, header v0).
Response unsupported_api_versions_response(CorrelationId correlation_id);
// Our ApiVersions answer: every entry of supported_apis().
ApiVersionsResponse supported_api_versions_response();

// One-line renderings for traces and test failures: "Fetch v12 corr=7 {replica_id=1 ...}".
std::string to_string(const Request& request);
std::string to_string(const Response& response);
std::string to_string(const RequestBody& body, int16_t version);
std::string to_string(const ResponseBody& body, int16_t version);

}  // namespace seedlog::protocol
