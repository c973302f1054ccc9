// Frames and headers: known bytes from librdkafka, tagged fields, Kafka's ApiVersions rule, and
// the refusal of unsupported versions, oversized and malformed frames.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "broker/protocol/codec.hpp"
#include "broker/protocol/testing/samples.hpp"

namespace seedlog::protocol {
namespace {

Bytes hex(std::string_view s) { return from_hex(s).value(); }

// librdkafka's first frame: ApiVersions v3 (flexible body, request header v2).
constexpr std::string_view kApiVersionsV3 =
    "000000240012000300000001000772646b61666b61000b6c696272646b61666b6106322e302e3200";

TEST(Codec, ApiVersionsV3RequestFromLibrdkafka) {
  Result<Request> r = decode_request(hex(kApiVersionsV3));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->header.api_key, ApiKey::api_versions);
  EXPECT_EQ(r->header.api_version, 3);
  EXPECT_EQ(r->header.correlation_id, CorrelationId(1));
  EXPECT_EQ(r->header.client_id, "rdkafka");
  const auto& body = std::get<ApiVersionsRequest>(r->body);
  EXPECT_EQ(body.client_software_name, "librdkafka");
  EXPECT_EQ(body.client_software_version, "2.0.2");
  EXPECT_EQ(to_hex(encode_request(*r)), kApiVersionsV3);
}

TEST(Codec, RequestBytesByHand) {
  Request r{RequestHeader{ApiKey::heartbeat, 3, CorrelationId(9), std::nullopt, {}},
            HeartbeatRequest{"g", GenerationId(2), "m", std::nullopt}};
  // size | key 12 | v3 | corr 9 | client null | "g" | gen 2 | "m" | instance null
  EXPECT_EQ(to_hex(encode_request(r)),
            "00000016" "000c" "0003" "00000009" "ffff" "000167" "00000002" "00016d" "ffff");
}

TEST(Codec, FetchV12TaggedFieldsByHand) {
  FetchResponse body;
  body.session_id = 5;
  FetchResponse::Partition p;
  p.partition_index = 0;
  p.high_watermark = Offset(10);
  p.diverging_epoch = EpochEndOffset{LeaderEpoch(3), Offset(7), {}};
  p.records = Bytes{};
  body.responses.push_back(FetchResponse::Topic{"t", {}, {p}, {}});
  Response response{12, ResponseHeader{CorrelationId(1), {}}, body};
  Bytes frame = encode_response(response);
  // header v1: corr + empty tags; body: throttle, error, session, 1 topic "t", 1 partition ...
  std::string expected =
      "00000001" "00"                      // correlation id, header tags
      "00000000" "0000" "00000005"         // throttle, error, session id
      "02" "0274"                          // 1 topic, compact "t"
      "02" "00000000" "0000"               // 1 partition, index 0, error 0
      "000000000000000a"                   // high watermark 10
      "ffffffffffffffff" "ffffffffffffffff"  // last stable offset, log start offset
      "00" "ffffffff" "01"                 // aborted txns null, preferred replica -1, records ""
      "01" "00" "0d" "00000003" "0000000000000007" "00"  // 1 tag: 0, 13 bytes, epoch 3 @ 7
      "00" "00";                           // topic tags, response tags
  EXPECT_EQ(to_hex(frame).substr(8), expected);
  Result<Response> back = decode_response(frame, ApiKey::fetch, 12);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(*back, response);
}

TEST(Codec, UnknownTagsArePreservedAndOrderIsEnforced) {
  FetchRequest body;
  body.cluster_id = "c";
  body.unknown_tags = {RawTaggedField{7, Bytes{1, 2}}, RawTaggedField{9, Bytes{}}};
  Request request{RequestHeader{ApiKey::fetch, 12, CorrelationId(3), "x",
                                {RawTaggedField{4, Bytes{0xaa}}}},
                  body};
  Bytes frame = encode_request(request);
  Result<Request> back = decode_request(frame);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(*back, request);
  EXPECT_EQ(encode_request(*back), frame);

  // The body's tag section is its last 11 bytes: count 3, (0, 2, "c"), (7, 2, 01 02), (9, 0).
  ASSERT_EQ(to_hex(Bytes(frame.end() - 11, frame.end())), "0300020263" "07020102" "0900");
  Bytes swapped = frame;
  size_t at = swapped.size() - 6;  // tag 7 -> tag 0 again (a repeat)
  swapped[at] = 0x00;
  Result<Request> bad = decode_request(swapped);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, DecodeErrc::invalid_value);
  EXPECT_NE(bad.error().message.find("ascending"), std::string::npos) << bad.error().to_string();
}

TEST(Codec, UnsupportedVersionsAreRefusedButHeaderIsReadable) {
  Bytes frame = hex(kApiVersionsV3);
  frame[7] = 9;  // ApiVersions v9
  Result<Request> r = decode_request(frame);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, DecodeErrc::unsupported_version);
  EXPECT_NE(r.error().message.find("ApiVersions v9"), std::string::npos);
  Result<RequestHeader> h = peek_request_header(frame);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->correlation_id, CorrelationId(1));
  EXPECT_EQ(h->api_version, 9);

  frame[5] = 0x44;  // api key 68: a real API we do not implement
  Result<Request> unknown = decode_request(frame);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, DecodeErrc::unknown_api);

  EXPECT_EQ(decode_response(hex("0000000400000001"), ApiKey::produce, 8).error().code,
            DecodeErrc::unsupported_version);
}

TEST(Codec, ApiVersionsRefusalIsWrittenAndReadAsV0) {
  Response refusal = unsupported_api_versions_response(CorrelationId(1));
  Bytes frame = encode_response(refusal);
  // Kafka's v0 answer: error 35, one entry (18, 0, 3), header v0.
  EXPECT_EQ(to_hex(frame), "00000010" "00000001" "0023" "00000001" "0012" "0000" "0003");
  Result<Response> back = decode_response(frame, ApiKey::api_versions, 3);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->api_version, 0);
  EXPECT_EQ(*back, refusal);
  EXPECT_EQ(encode_response(*back), frame);
}

TEST(Codec, SupportedApiVersionsAnswerListsTheTable) {
  ApiVersionsResponse answer = supported_api_versions_response();
  ASSERT_EQ(answer.api_keys.size(), supported_apis().size());
  for (const auto& entry : answer.api_keys) {
    EXPECT_TRUE(is_supported(entry.api_key, entry.min_version));
    EXPECT_TRUE(is_supported(entry.api_key, entry.max_version));
    EXPECT_FALSE(is_supported(entry.api_key, static_cast<int16_t>(entry.max_version + 1)));
  }
  Response response{3, ResponseHeader{CorrelationId(2), {}}, answer};
  EXPECT_TRUE(decode_response(encode_response(response), ApiKey::api_versions, 3).ok());
}

TEST(Codec, FrameSizeChecks) {
  EXPECT_EQ(*frame_size(hex("0000")), std::nullopt);
  EXPECT_EQ(*frame_size(hex("00000002aa")), std::nullopt);
  EXPECT_EQ(*frame_size(hex("00000002aabbcc")), std::optional<size_t>(6));
  EXPECT_EQ(frame_size(hex("ffffffff")).error().code, DecodeErrc::invalid_length);
  EXPECT_EQ(frame_size(hex("7fffffff")).error().code, DecodeErrc::too_large);
  EXPECT_EQ(frame_size(hex("00001000"), 1024).error().code, DecodeErrc::too_large);

  Bytes frame = hex(kApiVersionsV3);
  EXPECT_EQ(decode_request(frame, 16).error().code, DecodeErrc::too_large);
  Bytes longer = frame;
  longer.push_back(0);
  EXPECT_EQ(decode_request(longer).error().code, DecodeErrc::trailing_bytes);
  Bytes shorter(frame.begin(), frame.end() - 1);
  EXPECT_EQ(decode_request(shorter).error().code, DecodeErrc::truncated);
  // A body with a byte too many (size prefix adjusted) is refused too.
  Bytes padded = frame;
  padded.push_back(0);
  padded[3] = static_cast<uint8_t>(padded[3] + 1);
  Result<Request> r = decode_request(padded);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, DecodeErrc::trailing_bytes);
}

TEST(Codec, ErrorsNameTheFieldAndOffset) {
  // ApiVersions v3 with its client software name cut short.
  Bytes frame = hex("000000160012000300000001000772646b61666b61000b6c6962");
  Result<Request> r = decode_request(frame);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, DecodeErrc::truncated);
  EXPECT_EQ(r.error().offset, 23u);  // where the name's bytes should start
  EXPECT_NE(r.error().message.find("ApiVersionsRequest.client_software_name"), std::string::npos)
      << r.error().to_string();
}

TEST(Codec, SamplesOfEveryVersionRoundTripAndPrint) {
  for (const Request& request : samples::sample_requests(42)) {
    Bytes frame = encode_request(request);
    Result<Request> back = decode_request(frame);
    ASSERT_TRUE(back.ok()) << to_string(request) << ": " << back.error().to_string();
    EXPECT_EQ(*back, request) << to_string(request);
    EXPECT_FALSE(to_string(request).empty());
  }
  for (const Response& response : samples::sample_responses(42)) {
    Bytes frame = encode_response(response);
    Result<Response> back = decode_response(frame, response.api_key(), response.api_version);
    ASSERT_TRUE(back.ok()) << to_string(response) << ": " << back.error().to_string();
    EXPECT_EQ(*back, response) << to_string(response);
  }
}

TEST(Codec, PrintsReadably) {
  Request r{RequestHeader{ApiKey::heartbeat, 3, CorrelationId(9), "c", {}},
            HeartbeatRequest{"g", GenerationId(2), "m", std::nullopt}};
  EXPECT_EQ(to_string(r),
            "Heartbeat v3 request corr=9 client=c {group_id=\"g\" generation_id=2 member_id=\"m\" "
            "group_instance_id=null}");
}

RC_GTEST_PROP(Codec, ArbitraryFramesNeverCrash, (const Bytes& garbage, int16_t key, int16_t v)) {
  Bytes frame(4, 0);
  frame.insert(frame.end(), garbage.begin(), garbage.end());
  auto size = static_cast<uint32_t>(garbage.size());
  for (int i = 0; i < 4; ++i) frame[static_cast<size_t>(i)] = static_cast<uint8_t>(size >> (24 - 8 * i));
  (void)decode_request(frame);
  (void)peek_request_header(frame);
  (void)decode_response(frame, static_cast<ApiKey>(key), v);
  for (const ApiSupport& api : supported_apis()) {
    (void)decode_response(frame, api.api_key, api.max_version);
  }
}

}  // namespace
}  // namespace seedlog::protocol
