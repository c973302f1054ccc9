// RecordBatch v2: a batch librdkafka wrote (known vector), accessors, in-place rewrites, hostile
// batches, and round-trip properties for every codec.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "broker/protocol/testing/rc_optional.hpp"

#include "broker/protocol/crc32c.hpp"
#include "broker/protocol/record_batch.hpp"
#include "broker/protocol/testing/samples.hpp"

namespace seedlog::protocol {
namespace {

// The first batch of the conformance session (librdkafka 2.0.2, no compression, 3 records).
constexpr std::string_view kLibrdkafkaBatch =
    "0000000000000000000000cd0000000002" "26d844f6" "0000" "00000002"
    "000001a20b096254000001a20b096254ffffffffffffffffffffffffffff00000003"
    "660000000a6b65792d314876616c75652d6e6f6e652d312d7061796c6f61642d7061796c6f61642d7061796c"
    "6f61640202680278"
    "660000020a6b65792d334876616c75652d6e6f6e652d332d7061796c6f61642d7061796c6f61642d7061796c"
    "6f61640202680278"
    "660000040a6b65792d384876616c75652d6e6f6e652d382d7061796c6f61642d7061796c6f61642d7061796c"
    "6f61640202680278";

Bytes librdkafka_batch() { return from_hex(kLibrdkafkaBatch).value(); }
Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(RecordBatch, LibrdkafkaBatchKnownVector) {
  Bytes bytes = librdkafka_batch();
  Result<RecordBatchView> view = RecordBatchView::parse(bytes);
  ASSERT_TRUE(view.ok()) << view.error().to_string();
  EXPECT_EQ(view->base_offset(), Offset(0));
  EXPECT_EQ(view->last_offset(), Offset(2));
  EXPECT_EQ(view->partition_leader_epoch(), LeaderEpoch(0));
  EXPECT_EQ(view->compression(), Compression::none);
  EXPECT_EQ(view->timestamp_type(), TimestampType::create_time);
  EXPECT_FALSE(view->is_transactional());
  EXPECT_FALSE(view->is_control());
  EXPECT_EQ(view->producer_id(), ProducerId(-1));
  EXPECT_EQ(view->base_sequence(), Sequence(-1));
  EXPECT_EQ(view->record_count(), 3);
  EXPECT_EQ(view->stored_crc(), 0x26d844f6u);
  EXPECT_TRUE(view->crc_valid());

  Result<RecordBatch> batch = view->decode();
  ASSERT_TRUE(batch.ok()) << batch.error().to_string();
  ASSERT_EQ(batch->records.size(), 3u);
  EXPECT_EQ(batch->records[1].key, text("key-3"));
  EXPECT_EQ(batch->records[1].value, text("value-none-3-payload-payload-payload"));
  EXPECT_EQ(batch->records[1].offset_delta, 1);
  ASSERT_EQ(batch->records[2].headers.size(), 1u);
  EXPECT_EQ(batch->records[2].headers[0].key, "h");
  EXPECT_EQ(batch->records[2].headers[0].value, text("x"));
}

TEST(RecordBatch, BuildReproducesLibrdkafkaBytes) {
  std::vector<NewRecord> records;
  for (int k : {1, 3, 8}) {
    records.push_back(NewRecord{0x1a20b096254, text("key-" + std::to_string(k)),
                                text("value-none-" + std::to_string(k) +
                                     "-payload-payload-payload"),
                                {RecordHeader{"h", text("x")}}});
  }
  BatchOptions options{.partition_leader_epoch = LeaderEpoch(0)};
  EXPECT_EQ(to_hex(build_record_batch(options, records)), kLibrdkafkaBatch);
}

TEST(RecordBatch, RewritesOutsideTheCrcKeepItValid) {
  Bytes bytes = librdkafka_batch();
  set_base_offset(bytes, Offset(1000));
  set_partition_leader_epoch(bytes, LeaderEpoch(7));
  Result<RecordBatchView> view = RecordBatchView::parse(bytes);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->base_offset(), Offset(1000));
  EXPECT_EQ(view->last_offset(), Offset(1002));
  EXPECT_EQ(view->partition_leader_epoch(), LeaderEpoch(7));
  EXPECT_TRUE(view->crc_valid());

  set_log_append_time(bytes, 123456);
  view = RecordBatchView::parse(bytes);
  EXPECT_EQ(view->timestamp_type(), TimestampType::log_append_time);
  EXPECT_EQ(view->max_timestamp(), 123456);
  EXPECT_TRUE(view->crc_valid());
}

TEST(RecordBatch, IdempotentFieldsAndSequenceWrap) {
  std::vector<NewRecord> records = samples::sample_records(3, 10, 1);
  BatchOptions options{.producer_id = ProducerId(77),
                       .producer_epoch = ProducerEpoch(2),
                       .base_sequence = Sequence(std::numeric_limits<int32_t>::max() - 1)};
  Bytes bytes = build_record_batch(options, records);
  Result<RecordBatchView> view = RecordBatchView::parse(bytes);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->producer_id(), ProducerId(77));
  EXPECT_EQ(view->producer_epoch(), ProducerEpoch(2));
  EXPECT_EQ(view->last_sequence(), Sequence(0));  // MAX-1, MAX, 0
}

TEST(RecordBatch, EveryCodecRoundTrips) {
  std::vector<NewRecord> records = samples::sample_records(50, 100, 9);
  for (Compression codec : {Compression::none, Compression::gzip, Compression::snappy,
                            Compression::lz4, Compression::zstd}) {
    BatchOptions options{.base_offset = Offset(5), .compression = codec};
    Bytes bytes = build_record_batch(options, records);
    Result<RecordBatch> batch = decode_record_batch(bytes);
    ASSERT_TRUE(batch.ok()) << to_string(codec) << ": " << batch.error().to_string();
    EXPECT_EQ(batch->header.compression(), codec);
    ASSERT_EQ(batch->records.size(), records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(batch->records[i].value, records[i].value);
      EXPECT_EQ(batch->header.base_timestamp + batch->records[i].timestamp_delta,
                records[i].timestamp_ms);
    }
    EXPECT_EQ(encode_record_batch(*batch).size() > 0, true);
    if (codec == Compression::none) {
      EXPECT_EQ(encode_record_batch(*batch), bytes);
    }
  }
}

TEST(RecordBatch, EveryTruncationIsAnError) {
  Bytes bytes = librdkafka_batch();
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    Result<RecordBatch> batch = decode_record_batch(ByteView(bytes).first(cut));
    ASSERT_FALSE(batch.ok()) << cut;
    EXPECT_EQ(batch.error().code, DecodeErrc::truncated) << batch.error().to_string();
  }
}

TEST(RecordBatch, BadMagicBadCrcBadLength) {
  Bytes bad_magic = librdkafka_batch();
  bad_magic[16] = 1;
  Result<RecordBatch> r1 = decode_record_batch(bad_magic);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, DecodeErrc::bad_magic);
  EXPECT_EQ(r1.error().offset, 16u);

  Bytes bad_crc = librdkafka_batch();
  bad_crc.back() ^= 1;
  Result<RecordBatch> r2 = decode_record_batch(bad_crc);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, DecodeErrc::bad_crc);
  EXPECT_FALSE(RecordBatchView::parse(bad_crc)->crc_valid());
  BatchDecodeOptions skip_crc{.verify_crc = false};
  EXPECT_TRUE(decode_record_batch(bad_crc, skip_crc).ok());

  Bytes negative = librdkafka_batch();
  negative[8] = 0xff;  // batchLength < 0
  Result<RecordBatch> r3 = decode_record_batch(negative);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code, DecodeErrc::invalid_length);

  Bytes longer = librdkafka_batch();
  longer.push_back(0);
  Result<RecordBatch> r4 = decode_record_batch(longer);
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().code, DecodeErrc::trailing_bytes);

  Bytes codec7 = librdkafka_batch();
  codec7[22] = 0x07;
  EXPECT_EQ(decode_record_batch(codec7).error().code, DecodeErrc::invalid_value);
}

// Changes a covered field and fixes the CRC, so the check under test is the one that fails.
Result<RecordBatch> decode_patched(Bytes bytes, size_t at, std::initializer_list<uint8_t> value) {
  std::copy(value.begin(), value.end(), bytes.begin() + static_cast<ptrdiff_t>(at));
  update_crc(bytes);
  return decode_record_batch(bytes);
}

TEST(RecordBatch, RecordCountMustMatchRecords) {
  Result<RecordBatch> fewer = decode_patched(librdkafka_batch(), 57, {0, 0, 0, 2});
  ASSERT_FALSE(fewer.ok());
  EXPECT_EQ(fewer.error().code, DecodeErrc::trailing_bytes);
  Result<RecordBatch> more = decode_patched(librdkafka_batch(), 57, {0, 0, 0, 4});
  ASSERT_FALSE(more.ok());
  Result<RecordBatch> absurd = decode_patched(librdkafka_batch(), 57, {0x7f, 0xff, 0xff, 0xff});
  ASSERT_FALSE(absurd.ok());
  EXPECT_EQ(absurd.error().code, DecodeErrc::invalid_length);
  Result<RecordBatch> negative = decode_patched(librdkafka_batch(), 57, {0xff, 0xff, 0xff, 0xff});
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().code, DecodeErrc::invalid_length);
}

TEST(RecordBatch, OffsetDeltasMustRiseWithinLastOffsetDelta) {
  Result<RecordBatch> short_range = decode_patched(librdkafka_batch(), 23, {0, 0, 0, 1});
  ASSERT_FALSE(short_range.ok());
  EXPECT_EQ(short_range.error().code, DecodeErrc::invalid_value);
  EXPECT_NE(short_range.error().message.find("offset delta"), std::string::npos);

  RecordBatch batch = decode_record_batch(librdkafka_batch()).value();
  batch.records[2].offset_delta = 1;  // repeats the previous delta
  Result<RecordBatch> repeated = decode_record_batch(encode_record_batch(batch));
  ASSERT_FALSE(repeated.ok());
  EXPECT_EQ(repeated.error().code, DecodeErrc::invalid_value);

  // Compaction leaves gaps: 0, 5, 9 within lastOffsetDelta 9 is fine.
  batch.records[1].offset_delta = 5;
  batch.records[2].offset_delta = 9;
  batch.header.last_offset_delta = 9;
  EXPECT_TRUE(decode_record_batch(encode_record_batch(batch)).ok());
}

TEST(RecordBatch, HostileRecordFields) {
  // The first record's length varint (byte 61): claim far more than the section holds.
  Result<RecordBatch> long_record = decode_patched(librdkafka_batch(), 61, {0xfe, 0x0f});
  ASSERT_FALSE(long_record.ok());
  // Its key length (byte 65): -2 is not null, it is invalid.
  Result<RecordBatch> key = decode_patched(librdkafka_batch(), 65, {0x03});
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, DecodeErrc::invalid_length);
  EXPECT_GE(key.error().offset, 61u);
}

TEST(RecordBatch, CompressedBombIsRefused) {
  NewRecord big{0, std::nullopt, Bytes(4 << 20, 'z'), {}};
  BatchOptions options{.compression = Compression::zstd};
  Bytes bytes = build_record_batch(options, std::span<const NewRecord>(&big, 1));
  EXPECT_LT(bytes.size(), 4096u);
  BatchDecodeOptions small{.max_decompressed_bytes = 1 << 20};
  Result<RecordBatch> out = decode_record_batch(bytes, small);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, DecodeErrc::too_large);
  EXPECT_TRUE(decode_record_batch(bytes).ok());
}

TEST(RecordBatch, SplitBatchesAndPartialTail) {
  std::vector<Bytes> batches = samples::sample_batches(3);
  Bytes all;
  for (const Bytes& b : batches) all.insert(all.end(), b.begin(), b.end());
  Result<BatchSplit> split = split_batches(all);
  ASSERT_TRUE(split.ok()) << split.error().to_string();
  EXPECT_EQ(split->batches.size(), batches.size());
  EXPECT_EQ(split->consumed_bytes, all.size());
  for (const RecordBatchView& v : split->batches) EXPECT_TRUE(v.decode().ok());

  Bytes cut(all.begin(), all.end() - 5);
  EXPECT_FALSE(split_batches(cut).ok());
  Result<BatchSplit> tail = split_batches(cut, true);
  ASSERT_TRUE(tail.ok());
  EXPECT_TRUE(tail->partial_tail);
  EXPECT_EQ(tail->batches.size(), batches.size() - 1);
}

TEST(RecordBatch, ControlAndTransactionalBits) {
  std::vector<Bytes> batches = samples::sample_batches(4);
  Result<RecordBatchView> control = RecordBatchView::parse(batches.back());
  ASSERT_TRUE(control.ok());
  EXPECT_TRUE(control->is_control());
  EXPECT_TRUE(control->is_transactional());
  EXPECT_EQ(control->base_offset(), Offset(100));
}

rc::Gen<NewRecord> gen_record() {
  return rc::gen::build<NewRecord>(
      rc::gen::set(&NewRecord::timestamp_ms, rc::gen::inRange<int64_t>(0, int64_t{1} << 42)),
      rc::gen::set(&NewRecord::key, rc::gen::arbitrary<std::optional<Bytes>>()),
      rc::gen::set(&NewRecord::value, rc::gen::arbitrary<std::optional<Bytes>>()),
      rc::gen::set(&NewRecord::headers,
                   rc::gen::container<std::vector<RecordHeader>>(rc::gen::build<RecordHeader>(
                       rc::gen::set(&RecordHeader::key, rc::gen::arbitrary<std::string>()),
                       rc::gen::set(&RecordHeader::value,
                                    rc::gen::arbitrary<std::optional<Bytes>>())))));
}

RC_GTEST_PROP(RecordBatch, BuildThenDecodeGivesTheRecords, ()) {
  auto records = *rc::gen::nonEmpty(rc::gen::container<std::vector<NewRecord>>(gen_record()));
  auto codec = static_cast<Compression>(*rc::gen::inRange(0, 5));
  BatchOptions options{.base_offset = Offset(*rc::gen::inRange<int64_t>(0, int64_t{1} << 50)),
                       .partition_leader_epoch = LeaderEpoch(*rc::gen::arbitrary<int32_t>()),
                       .compression = codec,
                       .producer_id = ProducerId(*rc::gen::arbitrary<int64_t>()),
                       .producer_epoch = ProducerEpoch(*rc::gen::arbitrary<int16_t>()),
                       .base_sequence = Sequence(*rc::gen::arbitrary<int32_t>())};
  Bytes bytes = build_record_batch(options, records);
  Result<RecordBatch> batch = decode_record_batch(bytes);
  RC_ASSERT(batch.ok());
  RC_ASSERT(batch->header.base_offset == options.base_offset);
  RC_ASSERT(batch->header.producer_id == options.producer_id);
  RC_ASSERT(batch->header.record_count == static_cast<int32_t>(records.size()));
  RC_ASSERT(batch->records.size() == records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = batch->records[i];
    RC_ASSERT(r.key == records[i].key);
    RC_ASSERT(r.value == records[i].value);
    RC_ASSERT(r.headers == records[i].headers);
    RC_ASSERT(r.offset_delta == static_cast<int32_t>(i));
    RC_ASSERT(batch->header.base_timestamp + r.timestamp_delta == records[i].timestamp_ms);
  }
  // Re-encoding the decoded batch decodes to the same batch (compressed bytes may differ only
  // if a codec were non-deterministic; ours are not).
  RC_ASSERT(encode_record_batch(*batch) == bytes);
}

RC_GTEST_PROP(RecordBatch, ArbitraryBytesNeverCrash, (const Bytes& garbage)) {
  BatchDecodeOptions options{.max_decompressed_bytes = 1 << 16};
  (void)decode_record_batch(garbage, options);
  (void)split_batches(garbage, true);
}

// Mutations of a valid batch, with the CRC repaired so decoding reaches the records.
RC_GTEST_PROP(RecordBatch, MutatedBatchesNeverCrash, (size_t pick, uint8_t value, uint8_t which)) {
  std::vector<Bytes> batches = samples::sample_batches(7);
  Bytes bytes = batches[which % batches.size()];
  size_t at = kBatchCrcStart + pick % (bytes.size() - kBatchCrcStart);
  bytes[at] = value;
  update_crc(bytes);
  BatchDecodeOptions options{.max_decompressed_bytes = 1 << 16};
  Result<RecordBatch> out = decode_record_batch(bytes, options);
  if (out.ok()) {
    RC_ASSERT(out->records.size() == static_cast<size_t>(out->header.record_count));
  }
}

}  // namespace
}  // namespace seedlog::protocol
