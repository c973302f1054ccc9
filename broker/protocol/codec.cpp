#include "broker/protocol/codec.hpp"

#include <limits>

#include <fmt/format.h>

#include "broker/protocol/detail/message_codec.hpp"
#include "broker/protocol/detail/schema_io.hpp"
#include "sim/assert.hpp"

namespace seedlog::protocol {
namespace {

constexpr size_t kSizePrefixBytes = 4;

template <class Variant, size_t I = 0>
ApiKey api_key_of_index(size_t index) {
  if constexpr (I == std::variant_size_v<Variant>) {
    SL_UNREACHABLE("variant index out of range");
  } else {
    if (index == I) return std::variant_alternative_t<I, Variant>::kApiKey;
    return api_key_of_index<Variant, I + 1>(index);
  }
}

// Decodes the alternative of Variant whose api key is `key`. REQUIRES: is_supported(key, version).
template <class Variant, size_t I = 0>
Variant decode_alternative(ApiKey key, int16_t version, Reader& in) {
  if constexpr (I == std::variant_size_v<Variant>) {
    SL_UNREACHABLE(fmt::format("no message type for {}", to_string(key)));
  } else {
    using M = std::variant_alternative_t<I, Variant>;
    if (M::kApiKey != key) return decode_alternative<Variant, I + 1>(key, version, in);
    M message;
    detail::decode_message(in, version, message);
    return Variant(std::in_place_index<I>, std::move(message));
  }
}

std::optional<DecodeError> check_supported(ApiKey key, int16_t version, size_t offset) {
  std::optional<ApiSupport> api = find_api(key);
  if (!api) {
    return DecodeError{DecodeErrc::unknown_api, offset,
                       fmt::format("api key {} ({}) is not implemented",
                                   static_cast<int16_t>(key), to_string(key))};
  }
  if (version < api->min_version || version > api->max_version) {
    return DecodeError{DecodeErrc::unsupported_version, offset,
                       fmt::format("{} v{} is not supported (supported: v{}-v{})",
                                   to_string(key), version, api->min_version, api->max_version)};
  }
  return std::nullopt;
}

template <class Variant>
Result<Variant> decode_body(ApiKey key, int16_t version, Reader& in, size_t offset) {
  if (auto unsupported = check_supported(key, version, offset)) return *unsupported;
  Variant body = decode_alternative<Variant>(key, version, in);
  if (in.ok() && !in.at_end()) in.expect_end(fmt::format("{} v{} body", to_string(key), version));  // text on error only
  if (!in.ok()) return in.error();
  return body;
}

// Checks the size prefix of a frame that should be exactly `frame`.
std::optional<DecodeError> check_frame(ByteView frame, size_t max_frame_bytes) {
  Reader r(frame);
  int32_t size = r.i32();
  if (!r.ok()) return DecodeError{DecodeErrc::truncated, 0, "frame: no 4-byte size prefix"};
  if (size < 0) {
    return DecodeError{DecodeErrc::invalid_length, 0, fmt::format("frame size {} is negative", size)};
  }
  if (static_cast<size_t>(size) > max_frame_bytes) {
    return DecodeError{DecodeErrc::too_large, 0,
                       fmt::format("frame of {} bytes exceeds the limit of {} bytes", size,
                                   max_frame_bytes)};
  }
  size_t present = frame.size() - kSizePrefixBytes;
  if (static_cast<size_t>(size) > present) {
    return DecodeError{DecodeErrc::truncated, frame.size(),
                       fmt::format("frame declares {} bytes, {} present", size, present)};
  }
  if (static_cast<size_t>(size) < present) {
    return DecodeError{DecodeErrc::trailing_bytes, kSizePrefixBytes + static_cast<size_t>(size),
                       fmt::format("frame declares {} bytes, {} present", size, present)};
  }
  return std::nullopt;
}

void prefix_error(Reader& r, std::string_view what) {
  if (DecodeError* err = r.mutable_error()) err->message = fmt::format("{}: {}", what, err->message);
}

// Reads the request header fields common to v1 and v2 (client id is an int16 string in both).
RequestHeader read_fixed_request_header(Reader& r) {
  RequestHeader h;
  h.api_key = static_cast<ApiKey>(r.i16());
  h.api_version = r.i16();
  h.correlation_id = CorrelationId(r.i32());
  h.client_id = r.nullable_string();
  prefix_error(r, "request header");
  return h;
}

void read_header_tags(Reader& r, UnknownTags& tags, const char* what) {
  detail::Decoder decoder(r, 0, true, what);
  decoder.tags(tags);
}

void write_header_tags(Writer& w, const UnknownTags& tags) {
  detail::Encoder encoder(w, 0, true);
  encoder.tags(tags);
}

// ApiVersions responses that refuse the request's version are written in the v0 format.
int16_t response_body_version(ApiKey key, int16_t request_version, ByteView body) {
  if (key != ApiKey::api_versions || request_version == 0) return request_version;
  Reader peek(body);
  auto error_code = static_cast<ErrorCode>(peek.i16());
  return peek.ok() && error_code == ErrorCode::unsupported_version ? 0 : request_version;
}

void finish_frame(Writer& w, size_t size_at) {
  size_t size = w.size() - size_at - kSizePrefixBytes;
  SL_ASSERT(size <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  w.patch_i32(size_at, static_cast<int32_t>(size));
}

}  // namespace

ApiKey api_key_of(const RequestBody& body) { return api_key_of_index<RequestBody>(body.index()); }
ApiKey api_key_of(const ResponseBody& body) {
  return api_key_of_index<ResponseBody>(body.index());
}

Result<std::optional<size_t>> frame_size(ByteView stream, size_t max_frame_bytes) {
  if (stream.size() < kSizePrefixBytes) return std::optional<size_t>();
  Reader r(stream);
  int32_t size = r.i32();
  if (size < 0) {
    return DecodeError{DecodeErrc::invalid_length, 0, fmt::format("frame size {} is negative", size)};
  }
  if (static_cast<size_t>(size) > max_frame_bytes) {
    return DecodeError{DecodeErrc::too_large, 0,
                       fmt::format("frame of {} bytes exceeds the limit of {} bytes", size,
                                   max_frame_bytes)};
  }
  size_t total = kSizePrefixBytes + static_cast<size_t>(size);
  if (stream.size() < total) return std::optional<size_t>();
  return std::optional<size_t>(total);
}

Result<RequestHeader> peek_request_header(ByteView frame, size_t max_frame_bytes) {
  if (auto bad = check_frame(frame, max_frame_bytes)) return *bad;
  Reader r(frame);
  r.skip(kSizePrefixBytes);
  RequestHeader header = read_fixed_request_header(r);
  if (!r.ok()) return r.error();
  return header;
}

Result<Request> decode_request(ByteView frame, size_t max_frame_bytes) {
  if (auto bad = check_frame(frame, max_frame_bytes)) return *bad;
  Reader r(frame);
  r.skip(kSizePrefixBytes);
  Request request;
  request.header = read_fixed_request_header(r);
  if (!r.ok()) return r.error();
  const RequestHeader& h = request.header;
  if (auto unsupported = check_supported(h.api_key, h.api_version, kSizePrefixBytes)) {
    return *unsupported;
  }
  if (request_header_version(h.api_key, h.api_version) >= 2) {
    read_header_tags(r, request.header.unknown_tags, "RequestHeader");
  }
  if (!r.ok()) return r.error();
  Result<RequestBody> body = decode_body<RequestBody>(h.api_key, h.api_version, r, r.offset());
  if (!body.ok()) return body.error();
  request.body = std::move(body).value();
  return request;
}

// Most frames (Fetch and Produce without many records, heartbeats, metadata) fit here: one
// allocation per frame instead of a growth step every few fields.
constexpr size_t kFrameReserveBytes = 512;

Bytes encode_request(const Request& request) {
  const RequestHeader& h = request.header;
  SL_ASSERT_MSG(api_key_of(request.body) == h.api_key, to_string(h.api_key));
  SL_ASSERT_MSG(is_supported(h.api_key, h.api_version),
                fmt::format("{} v{}", to_string(h.api_key), h.api_version));
  Writer w(kFrameReserveBytes);
  size_t size_at = w.reserve_i32();
  w.i16(static_cast<int16_t>(h.api_key));
  w.i16(h.api_version);
  w.i32(h.correlation_id.value());
  w.nullable_string(h.client_id);
  if (request_header_version(h.api_key, h.api_version) >= 2) write_header_tags(w, h.unknown_tags);
  std::visit([&](const auto& m) { detail::encode_message(m, h.api_version, w); }, request.body);
  finish_frame(w, size_at);
  return w.take();
}

Result<Response> decode_response(ByteView frame, ApiKey api_key, int16_t request_version,
                                 size_t max_frame_bytes) {
  if (auto bad = check_frame(frame, max_frame_bytes)) return *bad;
  if (auto unsupported = check_supported(api_key, request_version, 0)) return *unsupported;
  Reader r(frame);
  r.skip(kSizePrefixBytes);
  Response response;
  response.header.correlation_id = CorrelationId(r.i32());
  prefix_error(r, "response header");
  if (response_header_version(api_key, request_version) >= 1) {
    read_header_tags(r, response.header.unknown_tags, "ResponseHeader");
  }
  if (!r.ok()) return r.error();
  response.api_version =
      response_body_version(api_key, request_version, frame.subspan(r.offset()));
  Result<ResponseBody> body =
      decode_body<ResponseBody>(api_key, response.api_version, r, r.offset());
  if (!body.ok()) return body.error();
  response.body = std::move(body).value();
  return response;
}

Bytes encode_response(const Response& response) {
  ApiKey key = response.api_key();
  SL_ASSERT_MSG(is_supported(key, response.api_version),
                fmt::format("{} v{}", to_string(key), response.api_version));
  if (const auto* av = std::get_if<ApiVersionsResponse>(&response.body)) {
    // Kafka's rule: a refusal of the ApiVersions version is written as v0, and readers rely on
    // it (decode_response reads such an answer as v0).
    SL_ASSERT_MSG(av->error_code != ErrorCode::unsupported_version || response.api_version == 0,
                  "an UNSUPPORTED_VERSION ApiVersions answer must be encoded at v0");
  }
  Writer w(kFrameReserveBytes);
  size_t size_at = w.reserve_i32();
  w.i32(response.header.correlation_id.value());
  if (response_header_version(key, response.api_version) >= 1) {
    write_header_tags(w, response.header.unknown_tags);
  }
  std::visit([&](const auto& m) { detail::encode_message(m, response.api_version, w); },
             response.body);
  finish_frame(w, size_at);
  return w.take();
}

Result<RequestBody> decode_request_body(ApiKey api_key, int16_t version, ByteView body) {
  Reader r(body);
  return decode_body<RequestBody>(api_key, version, r, 0);
}

Bytes encode_request_body(const RequestBody& body, int16_t version) {
  SL_ASSERT(is_supported(api_key_of(body), version));
  Writer w;
  std::visit([&](const auto& m) { detail::encode_message(m, version, w); }, body);
  return w.take();
}

Result<ResponseBody> decode_response_body(ApiKey api_key, int16_t version, ByteView body) {
  Reader r(body);
  return decode_body<ResponseBody>(api_key, version, r, 0);
}

Bytes encode_response_body(const ResponseBody& body, int16_t version) {
  SL_ASSERT(is_supported(api_key_of(body), version));
  Writer w;
  std::visit([&](const auto& m) { detail::encode_message(m, version, w); }, body);
  return w.take();
}

Response unsupported_api_versions_response(CorrelationId correlation_id) {
  std::optional<ApiSupport> own = find_api(ApiKey::api_versions);
  SL_ASSERT(own.has_value());
  ApiVersionsResponse body;
  body.error_code = ErrorCode::unsupported_version;
  body.api_keys.push_back({ApiKey::api_versions, own->min_version, own->max_version, {}});
  return Response{0, ResponseHeader{correlation_id, {}}, std::move(body)};
}

ApiVersionsResponse supported_api_versions_response() {
  ApiVersionsResponse body;
  for (const ApiSupport& api : supported_apis()) {
    body.api_keys.push_back({api.api_key, api.min_version, api.max_version, {}});
  }
  return body;
}

std::string to_string(const RequestBody& body, int16_t version) {
  std::string out;
  std::visit([&](const auto& m) { detail::print_message(m, version, out); }, body);
  return out;
}

std::string to_string(const ResponseBody& body, int16_t version) {
  std::string out;
  std::visit([&](const auto& m) { detail::print_message(m, version, out); }, body);
  return out;
}

std::string to_string(const Request& request) {
  const RequestHeader& h = request.header;
  return fmt::format("{} v{} request corr={} client={} {}", to_string(h.api_key), h.api_version,
                     h.correlation_id.value(), h.client_id.value_or("null"),
                     to_string(request.body, h.api_version));
}

std::string to_string(const Response& response) {
  return fmt::format("{} v{} response corr={} {}", to_string(response.api_key()),
                     response.api_version, response.header.correlation_id.value(),
                     to_string(response.body, response.api_version));
}

}  // namespace seedlog::protocol
