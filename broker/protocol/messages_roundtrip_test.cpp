// Round-trip properties for every message type at every supported version: generate a message
// (every field filled through the schema, RapidCheck choosing the values so failures shrink),
// encode, decode, compare; every strict prefix is refused; arbitrary bytes never crash the
// decoder and, when they decode, re-encode to a canonical fixpoint.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "broker/protocol/testing/rc_optional.hpp"

#include <limits>

#include "broker/protocol/codec.hpp"
#include "broker/protocol/testing/samples.hpp"

namespace seedlog::protocol {
namespace {

class RcSource final : public samples::ValueSource {
 public:
  uint64_t next(uint64_t bound) override {
    if (bound == std::numeric_limits<uint64_t>::max()) return *rc::gen::arbitrary<uint64_t>();
    return *rc::gen::inRange<uint64_t>(0, bound + 1);
  }
};

struct ApiVersion {
  ApiKey key;
  int16_t version;
};

std::vector<ApiVersion> all_supported() {
  std::vector<ApiVersion> out;
  for (const ApiSupport& api : supported_apis()) {
    for (int16_t v = api.min_version; v <= api.max_version; ++v) out.push_back({api.api_key, v});
  }
  return out;
}

UnknownTags gen_header_tags(ApiKey key, int16_t version, bool request) {
  bool tagged = request ? request_header_version(key, version) >= 2
                        : response_header_version(key, version) >= 1;
  if (!tagged || !*rc::gen::arbitrary<bool>()) return {};
  return {RawTaggedField{*rc::gen::inRange<uint32_t>(0, 100), *rc::gen::arbitrary<Bytes>()}};
}

TEST(MessagesRoundTrip, CoversEverySupportedVersion) {
  // 23 APIs; ApiVersions 0-3, Fetch 11-15, Metadata 2-7, InitProducerId 3-4, OffsetForLeaderEpoch
  // 3-4 and AlterPartition 0-3 add 3+4+5+1+1+3 versions.
  EXPECT_EQ(all_supported().size(), 40u);
}

RC_GTEST_PROP(MessagesRoundTrip, RequestsRoundTrip, ()) {
  RcSource source;
  for (const ApiVersion& av : all_supported()) {
    Request request;
    request.header = RequestHeader{av.key, av.version, CorrelationId(*rc::gen::arbitrary<int32_t>()),
                                   *rc::gen::arbitrary<std::optional<std::string>>(),
                                   gen_header_tags(av.key, av.version, true)};
    RC_PRE(!request.header.client_id || request.header.client_id->size() < 32768);
    request.body = samples::make_request_body(av.key, av.version, source);
    Bytes bytes = encode_request(request);
    Result<Request> decoded = decode_request(bytes);
    RC_ASSERT(decoded.ok());
    if (!(*decoded == request)) {
      RC_FAIL(to_string(request) + "\n  decoded as\n" + to_string(*decoded));
    }
    RC_ASSERT(encode_request(*decoded) == bytes);
  }
}

RC_GTEST_PROP(MessagesRoundTrip, ResponsesRoundTrip, ()) {
  RcSource source;
  for (const ApiVersion& av : all_supported()) {
    Response response{av.version,
                      ResponseHeader{CorrelationId(*rc::gen::arbitrary<int32_t>()),
                                     gen_header_tags(av.key, av.version, false)},
                      samples::make_response_body(av.key, av.version, source)};
    Bytes bytes = encode_response(response);
    Result<Response> decoded = decode_response(bytes, av.key, av.version);
    RC_ASSERT(decoded.ok());
    if (!(*decoded == response)) {
      RC_FAIL(to_string(response) + "\n  decoded as\n" + to_string(*decoded));
    }
    RC_ASSERT(encode_response(*decoded) == bytes);
  }
}

RC_GTEST_PROP(MessagesRoundTrip, EveryStrictPrefixIsRefused, ()) {
  RcSource source;
  auto pairs = all_supported();
  ApiVersion av = *rc::gen::elementOf(pairs);
  Bytes request = encode_request_body(samples::make_request_body(av.key, av.version, source),
                                      av.version);
  Bytes response = encode_response_body(
      samples::make_response_body(av.key, av.version, source), av.version);
  for (size_t cut = 0; cut < request.size(); ++cut) {
    RC_ASSERT(!decode_request_body(av.key, av.version, ByteView(request).first(cut)).ok());
  }
  for (size_t cut = 0; cut < response.size(); ++cut) {
    RC_ASSERT(!decode_response_body(av.key, av.version, ByteView(response).first(cut)).ok());
  }
}

// Whatever decodes re-encodes to bytes that decode to the same value and re-encode identically.
RC_GTEST_PROP(MessagesRoundTrip, ArbitraryBodiesDecodeSafelyToAFixpoint, (const Bytes& garbage)) {
  auto pairs = all_supported();
  ApiVersion av = *rc::gen::elementOf(pairs);
  if (Result<RequestBody> body = decode_request_body(av.key, av.version, garbage); body.ok()) {
    Bytes canonical = encode_request_body(*body, av.version);
    Result<RequestBody> again = decode_request_body(av.key, av.version, canonical);
    RC_ASSERT(again.ok());
    RC_ASSERT(*again == *body);
    RC_ASSERT(encode_request_body(*again, av.version) == canonical);
  }
  if (Result<ResponseBody> body = decode_response_body(av.key, av.version, garbage); body.ok()) {
    Bytes canonical = encode_response_body(*body, av.version);
    Result<ResponseBody> again = decode_response_body(av.key, av.version, canonical);
    RC_ASSERT(again.ok());
    RC_ASSERT(*again == *body);
  }
}

// Flipping a byte of a valid body must never crash the decoder (and usually changes the result).
RC_GTEST_PROP(MessagesRoundTrip, MutatedBodiesNeverCrash, (size_t at, uint8_t value)) {
  RcSource source;
  auto pairs = all_supported();
  ApiVersion av = *rc::gen::elementOf(pairs);
  Bytes body = encode_response_body(samples::make_response_body(av.key, av.version, source),
                                    av.version);
  RC_PRE(!body.empty());
  body[at % body.size()] = value;
  (void)decode_response_body(av.key, av.version, body);
}

}  // namespace
}  // namespace seedlog::protocol
