// Conformance against real traffic: every Kafka frame librdkafka 2.0.2 and its mock cluster
// exchanged (shared/conformance/librdkafka-2.0.2/frames.jsonl, see its README). For every frame
// of an (api, version) we implement: decode without error, re-encode to the identical bytes, and
// for Produce requests and Fetch responses check every batch's CRC and decode its records. Frames
// of versions we do not implement must be refused cleanly.
#include <fstream>
#include <map>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "broker/protocol/codec.hpp"
#include "broker/protocol/record_batch.hpp"

namespace seedlog::protocol {
namespace {

struct Frame {
  std::string dir;
  ApiKey api_key;
  int16_t api_version;
  int32_t correlation_id;
  Bytes bytes;
};

std::vector<Frame> load_frames() {
  std::string path = std::string(SEEDLOG_CONFORMANCE_DIR) + "/frames.jsonl";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<Frame> frames;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    std::optional<Bytes> bytes = from_hex(j.at("hex").get<std::string>());
    EXPECT_TRUE(bytes.has_value()) << line;
    frames.push_back(Frame{j.at("dir").get<std::string>(),
                           static_cast<ApiKey>(j.at("api_key").get<int>()),
                           static_cast<int16_t>(j.at("api_version").get<int>()),
                           j.at("correlation_id").get<int32_t>(), bytes.value_or(Bytes{})});
  }
  return frames;
}

bool starts_with(const std::optional<Bytes>& b, std::string_view prefix) {
  return b && b->size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), b->begin());
}

struct Tally {
  std::map<std::string, int> checked;  // "request Produce v7" -> frames decoded and re-encoded
  std::map<std::string, int> refused;  // unsupported versions, refused as they should be
  std::map<Compression, int> batches_by_codec;
  int records = 0;
  int mock_api_versions_quirk = 0;

  int total_checked() const {
    int n = 0;
    for (const auto& [kind, count] : checked) n += count;
    return n;
  }
};

// Every batch must pass its CRC and decode to the session's records.
void check_records(const std::optional<Bytes>& records, bool allow_partial_tail, Tally& tally,
                   const std::string& where) {
  if (!records || records->empty()) return;
  Result<BatchSplit> split = split_batches(*records, allow_partial_tail);
  ASSERT_TRUE(split.ok()) << where << ": " << split.error().to_string();
  for (const RecordBatchView& view : split->batches) {
    EXPECT_TRUE(view.crc_valid()) << where;
    Result<RecordBatch> batch = view.decode();
    ASSERT_TRUE(batch.ok()) << where << ": " << batch.error().to_string();
    EXPECT_EQ(batch->records.size(), static_cast<size_t>(view.record_count()));
    for (const Record& r : batch->records) {
      EXPECT_TRUE(starts_with(r.key, "key-")) << where;
      EXPECT_TRUE(starts_with(r.value, "value-")) << where;
      ++tally.records;
    }
    ++tally.batches_by_codec[view.compression()];
    // Our encoder reproduces uncompressed batches byte for byte.
    if (view.compression() == Compression::none) {
      Bytes again = encode_record_batch(*batch);
      EXPECT_EQ(to_hex(again), to_hex(view.bytes())) << where;
    }
  }
}

void check_request(const Frame& f, Tally& tally) {
  std::string kind = fmt::format("request {} v{}", to_string(f.api_key), f.api_version);
  Result<Request> decoded = decode_request(f.bytes);
  if (!is_supported(f.api_key, f.api_version)) {
    ASSERT_FALSE(decoded.ok()) << kind;
    EXPECT_TRUE(decoded.error().code == DecodeErrc::unsupported_version ||
                decoded.error().code == DecodeErrc::unknown_api)
        << decoded.error().to_string();
    ++tally.refused[kind];
    return;
  }
  ASSERT_TRUE(decoded.ok()) << kind << ": " << decoded.error().to_string();
  EXPECT_EQ(decoded->header.api_key, f.api_key);
  EXPECT_EQ(decoded->header.api_version, f.api_version);
  EXPECT_EQ(decoded->header.correlation_id.value(), f.correlation_id);
  EXPECT_EQ(to_hex(encode_request(*decoded)), to_hex(f.bytes)) << kind;
  if (const auto* produce = std::get_if<ProduceRequest>(&decoded->body)) {
    for (const auto& topic : produce->topics) {
      for (const auto& partition : topic.partitions) {
        check_records(partition.records, false, tally, kind);
      }
    }
  }
  ++tally.checked[kind];

  // The same frame claiming the next, unimplemented version is refused, its header still readable.
  Bytes newer = f.bytes;
  auto next = static_cast<uint16_t>(find_api(f.api_key)->max_version + 1);
  newer[6] = static_cast<uint8_t>(next >> 8);
  newer[7] = static_cast<uint8_t>(next);
  Result<Request> refused = decode_request(newer);
  ASSERT_FALSE(refused.ok()) << kind;
  EXPECT_EQ(refused.error().code, DecodeErrc::unsupported_version);
  Result<RequestHeader> header = peek_request_header(newer);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->correlation_id.value(), f.correlation_id);
  ++tally.refused[fmt::format("request {} v{}", to_string(f.api_key), next)];
}

// librdkafka 2.0.2's mock broker answers an ApiVersions v3 request it refuses with a hand-made
// body: error code, the array count as a single byte equal to the entry count (not a compact
// count), one entry, the throttle time, and no tagged fields. That is neither the v0 format
// (Kafka's rule) nor v3, so a faithful decoder must refuse it.
bool is_mock_api_versions_refusal(const Frame& f) {
  return f.dir == "response" && f.api_key == ApiKey::api_versions && f.api_version >= 3 &&
         f.bytes.size() >= 10 && f.bytes[8] == 0x00 && f.bytes[9] == 0x23;
}

void check_response(const Frame& f, Tally& tally) {
  std::string kind = fmt::format("response {} v{}", to_string(f.api_key), f.api_version);
  Result<Response> decoded = decode_response(f.bytes, f.api_key, f.api_version);
  if (!is_supported(f.api_key, f.api_version)) {
    ASSERT_FALSE(decoded.ok()) << kind;
    ++tally.refused[kind];
    return;
  }
  if (is_mock_api_versions_refusal(f)) {
    ASSERT_FALSE(decoded.ok()) << kind << " decoded: " << to_string(*decoded);
    EXPECT_NE(decoded.error().message.find("ApiVersionsResponse"), std::string::npos)
        << decoded.error().to_string();
    ++tally.mock_api_versions_quirk;
    return;
  }
  ASSERT_TRUE(decoded.ok()) << kind << ": " << decoded.error().to_string();
  EXPECT_EQ(decoded->header.correlation_id.value(), f.correlation_id);
  EXPECT_EQ(to_hex(encode_response(*decoded)), to_hex(f.bytes)) << kind;
  if (const auto* fetch = std::get_if<FetchResponse>(&decoded->body)) {
    for (const auto& topic : fetch->responses) {
      for (const auto& partition : topic.partitions) {
        check_records(partition.records, true, tally, kind);
      }
    }
  }
  ++tally.checked[kind];
}

TEST(Conformance, LibrdkafkaSessionDecodesAndReencodesIdentically) {
  std::vector<Frame> frames = load_frames();
  ASSERT_FALSE(frames.empty());
  Tally tally;
  for (const Frame& f : frames) {
    SCOPED_TRACE(fmt::format("{} api {} v{} corr {}", f.dir, static_cast<int>(f.api_key),
                             f.api_version, f.correlation_id));
    if (f.dir == "request") {
      check_request(f, tally);
    } else {
      check_response(f, tally);
    }
  }
  for (const auto& [kind, n] : tally.checked) fmt::print("  checked  {:32} {:4}\n", kind, n);
  for (const auto& [kind, n] : tally.refused) fmt::print("  refused  {:32} {:4}\n", kind, n);
  for (const auto& [codec, n] : tally.batches_by_codec) {
    fmt::print("  batches  {:32} {:4}\n", to_string(codec), n);
  }
  fmt::print("  records {}, librdkafka-mock ApiVersions refusals refused: {}\n", tally.records,
             tally.mock_api_versions_quirk);

  EXPECT_GT(tally.total_checked(), 0);
  EXPECT_GT(tally.refused.size(), 0u);
  EXPECT_EQ(tally.mock_api_versions_quirk, 24);
  EXPECT_GT(tally.records, 0);
  for (Compression codec : {Compression::none, Compression::gzip, Compression::snappy,
                            Compression::lz4, Compression::zstd}) {
    EXPECT_GT(tally.batches_by_codec[codec], 0) << to_string(codec);
  }
  // Every client API of the session is covered, in both directions.
  for (const char* api : {"Produce v7", "Fetch v11", "ListOffsets v2", "Metadata v2",
                          "OffsetCommit v7", "OffsetFetch v5", "FindCoordinator v2",
                          "JoinGroup v5", "Heartbeat v3", "LeaveGroup v1", "SyncGroup v3",
                          "ApiVersions v3", "ApiVersions v0", "InitProducerId v4"}) {
    EXPECT_GT(tally.checked[fmt::format("request {}", api)], 0) << api;
    if (std::string_view(api) != "ApiVersions v3") {
      EXPECT_GT(tally.checked[fmt::format("response {}", api)], 0) << api;
    }
  }
}

}  // namespace
}  // namespace seedlog::protocol
