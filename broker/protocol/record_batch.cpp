#include "broker/protocol/record_batch.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "broker/protocol/crc32c.hpp"
#include "broker/protocol/reader.hpp"
#include "broker/protocol/writer.hpp"
#include "sim/assert.hpp"

namespace seedlog::protocol {
namespace {

// Byte offsets of the fixed header fields (see the table in record_batch.hpp).
constexpr size_t kBaseOffsetAt = 0;
constexpr size_t kBatchLengthAt = 8;
constexpr size_t kLeaderEpochAt = 12;
constexpr size_t kMagicAt = 16;
constexpr size_t kCrcAt = 17;
constexpr size_t kAttributesAt = 21;
constexpr size_t kLastOffsetDeltaAt = 23;
constexpr size_t kBaseTimestampAt = 27;
constexpr size_t kMaxTimestampAt = 35;
constexpr size_t kProducerIdAt = 43;
constexpr size_t kProducerEpochAt = 51;
constexpr size_t kBaseSequenceAt = 53;
constexpr size_t kRecordCountAt = 57;
static_assert(kRecordCountAt + 4 == kBatchHeaderBytes);
static_assert(kAttributesAt == kBatchCrcStart);

// The smallest record: length, attributes, timestamp delta, offset delta, key length, value
// length, header count, one byte each. It bounds how many records a section can hold.
constexpr size_t kMinRecordBytes = 7;
constexpr size_t kMinHeaderBytes = 2;
constexpr int kMaxCodec = 4;

uint64_t load_be(ByteView b, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | b[at + i];
  return v;
}

void store_be(std::span<uint8_t> b, size_t at, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
}

int16_t load_i16(ByteView b, size_t at) { return static_cast<int16_t>(load_be(b, at, 2)); }
int32_t load_i32(ByteView b, size_t at) { return static_cast<int32_t>(load_be(b, at, 4)); }
int64_t load_i64(ByteView b, size_t at) { return static_cast<int64_t>(load_be(b, at, 8)); }

DecodeError batch_error(DecodeErrc code, size_t offset, std::string message) {
  return DecodeError{code, offset, fmt::format("record batch: {}", message)};
}

// ---- record parsing ------------------------------------------------------------------------

std::optional<Bytes> read_varint_bytes(Reader& r, const char* what) {
  int32_t length = r.varint();
  if (!r.ok() || length == -1) return std::nullopt;
  if (length < -1) {
    r.fail(DecodeErrc::invalid_length, fmt::format("{} length {} is negative", what, length));
    return std::nullopt;
  }
  if (static_cast<size_t>(length) > r.remaining()) {
    r.fail(DecodeErrc::truncated, fmt::format("{} length {} exceeds the {} bytes remaining", what,
                                              length, r.remaining()));
    return std::nullopt;
  }
  ByteView raw = r.take(static_cast<size_t>(length));
  return Bytes(raw.begin(), raw.end());
}

void read_headers(Reader& r, Record& record) {
  int32_t count = r.varint();
  if (!r.ok()) return;
  if (count < 0 || static_cast<size_t>(count) > r.remaining() / kMinHeaderBytes) {
    r.fail(DecodeErrc::invalid_length,
           fmt::format("header count {} is impossible in {} bytes", count, r.remaining()));
    return;
  }
  for (int32_t i = 0; i < count && r.ok(); ++i) {
    RecordHeader& h = record.headers.emplace_back();
    std::optional<Bytes> key = read_varint_bytes(r, "header key");
    if (r.ok() && !key) r.fail(DecodeErrc::invalid_length, "header key is null");
    if (key) h.key.assign(key->begin(), key->end());
    h.value = read_varint_bytes(r, "header value");
  }
}

Record read_record(Reader& r) {
  Record record;
  int32_t length = r.varint();
  if (!r.ok()) return record;
  if (length < static_cast<int32_t>(kMinRecordBytes - 1) ||
      static_cast<size_t>(length) > r.remaining()) {
    r.fail(DecodeErrc::invalid_length,
           fmt::format("record length {} is impossible with {} bytes left", length, r.remaining()));
    return record;
  }
  Reader body = r.sub_reader(static_cast<size_t>(length));
  record.attributes = body.i8();
  record.timestamp_delta = body.varlong();
  record.offset_delta = body.varint();
  record.key = read_varint_bytes(body, "key");
  record.value = read_varint_bytes(body, "value");
  read_headers(body, record);
  body.expect_end("record");
  r.absorb(body);
  return record;
}

// Offset deltas must rise strictly and stay within the batch's declared range.
void check_offset_delta(Reader& r, const Record& record, int32_t previous, int32_t last_delta) {
  if (record.offset_delta <= previous || record.offset_delta > last_delta) {
    r.fail(DecodeErrc::invalid_value,
           fmt::format("offset delta {} after {} (lastOffsetDelta {})", record.offset_delta,
                       previous, last_delta));
  }
}

std::vector<Record> read_records(Reader& r, const BatchHeader& header) {
  std::vector<Record> records;
  auto count = static_cast<size_t>(header.record_count);
  if (count > r.remaining() / kMinRecordBytes) {
    r.fail(DecodeErrc::invalid_length,
           fmt::format("record count {} is impossible in {} bytes", count, r.remaining()));
    return records;
  }
  int32_t previous_delta = -1;
  for (size_t i = 0; i < count && r.ok(); ++i) {
    records.push_back(read_record(r));
    if (r.ok()) check_offset_delta(r, records.back(), previous_delta, header.last_offset_delta);
    previous_delta = records.back().offset_delta;
  }
  r.expect_end("records (more bytes than recordCount records)");
  return records;
}

// ---- record writing ------------------------------------------------------------------------

void write_varint_bytes(Writer& w, const std::optional<Bytes>& v) {
  if (!v) {
    w.varint(-1);
    return;
  }
  SL_ASSERT(v->size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  w.varint(static_cast<int32_t>(v->size()));
  w.raw(*v);
}

// Appends one record (length-prefixed); `scratch` is reused between records.
void write_record(Writer& out, Writer& scratch, const Record& record) {
  scratch.clear();
  scratch.i8(record.attributes);
  scratch.varlong(record.timestamp_delta);
  scratch.varint(record.offset_delta);
  write_varint_bytes(scratch, record.key);
  write_varint_bytes(scratch, record.value);
  scratch.varint(static_cast<int32_t>(record.headers.size()));
  for (const RecordHeader& h : record.headers) {
    SL_ASSERT(h.key.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
    scratch.varint(static_cast<int32_t>(h.key.size()));
    scratch.raw({reinterpret_cast<const uint8_t*>(h.key.data()), h.key.size()});
    write_varint_bytes(scratch, h.value);
  }
  out.varint(static_cast<int32_t>(scratch.size()));
  out.raw(scratch.data());
}

void write_header(Writer& w, const BatchHeader& h, size_t records_bytes, int32_t record_count) {
  size_t length = kBatchHeaderBytes - kBatchLengthPrefixBytes + records_bytes;
  SL_ASSERT_MSG(length <= static_cast<size_t>(std::numeric_limits<int32_t>::max()),
                "record batch larger than 2 GiB");
  w.i64(h.base_offset.value());
  w.i32(static_cast<int32_t>(length));
  w.i32(h.partition_leader_epoch.value());
  w.i8(kRecordBatchMagic);
  w.u32(0);  // crc, patched once the rest is written
  w.i16(h.attributes);
  w.i32(h.last_offset_delta);
  w.i64(h.base_timestamp);
  w.i64(h.max_timestamp);
  w.i64(h.producer_id.value());
  w.i16(h.producer_epoch.value());
  w.i32(h.base_sequence.value());
  w.i32(record_count);
}

}  // namespace

// ---- BatchHeader -----------------------------------------------------------------------------

Compression BatchHeader::compression() const {
  return static_cast<Compression>(attributes & batch_attributes::kCompressionMask);
}

TimestampType BatchHeader::timestamp_type() const {
  return (attributes & batch_attributes::kTimestampType) ? TimestampType::log_append_time
                                                          : TimestampType::create_time;
}

// ---- RecordBatchView -------------------------------------------------------------------------

Result<RecordBatchView> RecordBatchView::parse(ByteView batch) {
  if (batch.size() < kBatchHeaderBytes) {
    return batch_error(DecodeErrc::truncated, batch.size(),
                       fmt::format("{} bytes, a header needs {}", batch.size(), kBatchHeaderBytes));
  }
  int32_t length = load_i32(batch, kBatchLengthAt);
  if (length < static_cast<int32_t>(kBatchHeaderBytes - kBatchLengthPrefixBytes)) {
    return batch_error(DecodeErrc::invalid_length, kBatchLengthAt,
                       fmt::format("batchLength {} is below the header size", length));
  }
  size_t total = kBatchLengthPrefixBytes + static_cast<size_t>(length);
  if (total > batch.size()) {
    return batch_error(DecodeErrc::truncated, batch.size(),
                       fmt::format("batchLength {} needs {} bytes, {} present", length, total,
                                   batch.size()));
  }
  if (total < batch.size()) {
    return batch_error(DecodeErrc::trailing_bytes, total,
                       fmt::format("{} bytes after the batch", batch.size() - total));
  }
  if (auto magic = static_cast<int8_t>(batch[kMagicAt]); magic != kRecordBatchMagic) {
    return batch_error(DecodeErrc::bad_magic, kMagicAt,
                       fmt::format("magic {} (only v2 record batches are supported)", magic));
  }
  if (int codec = load_i16(batch, kAttributesAt) & batch_attributes::kCompressionMask;
      codec > kMaxCodec) {
    return batch_error(DecodeErrc::invalid_value, kAttributesAt,
                       fmt::format("unknown compression codec {}", codec));
  }
  if (int32_t count = load_i32(batch, kRecordCountAt); count < 0) {
    return batch_error(DecodeErrc::invalid_length, kRecordCountAt,
                       fmt::format("record count {} is negative", count));
  }
  return RecordBatchView(batch);
}

Offset RecordBatchView::base_offset() const { return Offset(load_i64(bytes_, kBaseOffsetAt)); }
Offset RecordBatchView::last_offset() const {
  return Offset(base_offset().value() + last_offset_delta());
}
int32_t RecordBatchView::last_offset_delta() const { return load_i32(bytes_, kLastOffsetDeltaAt); }
LeaderEpoch RecordBatchView::partition_leader_epoch() const {
  return LeaderEpoch(load_i32(bytes_, kLeaderEpochAt));
}
int16_t RecordBatchView::attributes() const { return load_i16(bytes_, kAttributesAt); }
Compression RecordBatchView::compression() const {
  return static_cast<Compression>(attributes() & batch_attributes::kCompressionMask);
}
TimestampType RecordBatchView::timestamp_type() const {
  return (attributes() & batch_attributes::kTimestampType) ? TimestampType::log_append_time
                                                            : TimestampType::create_time;
}
bool RecordBatchView::is_transactional() const {
  return (attributes() & batch_attributes::kTransactional) != 0;
}
bool RecordBatchView::is_control() const { return (attributes() & batch_attributes::kControl) != 0; }
int64_t RecordBatchView::base_timestamp() const { return load_i64(bytes_, kBaseTimestampAt); }
int64_t RecordBatchView::max_timestamp() const { return load_i64(bytes_, kMaxTimestampAt); }
ProducerId RecordBatchView::producer_id() const { return ProducerId(load_i64(bytes_, kProducerIdAt)); }
ProducerEpoch RecordBatchView::producer_epoch() const {
  return ProducerEpoch(load_i16(bytes_, kProducerEpochAt));
}
Sequence RecordBatchView::base_sequence() const {
  return Sequence(load_i32(bytes_, kBaseSequenceAt));
}

Sequence RecordBatchView::last_sequence() const {
  int64_t base = base_sequence().value();
  int64_t delta = last_offset_delta();
  if (base < 0) return base_sequence();  // no sequence (not idempotent)
  int64_t last = base + delta;
  if (last > std::numeric_limits<int32_t>::max()) last -= int64_t{1} << 31;  // Kafka wraps to 0
  return Sequence(static_cast<int32_t>(last));
}

int32_t RecordBatchView::record_count() const { return load_i32(bytes_, kRecordCountAt); }
uint32_t RecordBatchView::stored_crc() const {
  return static_cast<uint32_t>(load_be(bytes_, kCrcAt, 4));
}
uint32_t RecordBatchView::computed_crc() const { return crc32c(bytes_.subspan(kBatchCrcStart)); }

BatchHeader RecordBatchView::header() const {
  BatchHeader h;
  h.base_offset = base_offset();
  h.batch_length = load_i32(bytes_, kBatchLengthAt);
  h.partition_leader_epoch = partition_leader_epoch();
  h.magic = static_cast<int8_t>(bytes_[kMagicAt]);
  h.crc = stored_crc();
  h.attributes = attributes();
  h.last_offset_delta = last_offset_delta();
  h.base_timestamp = base_timestamp();
  h.max_timestamp = max_timestamp();
  h.producer_id = producer_id();
  h.producer_epoch = producer_epoch();
  h.base_sequence = base_sequence();
  h.record_count = record_count();
  return h;
}

Result<RecordBatch> RecordBatchView::decode(const BatchDecodeOptions& options) const {
  if (options.verify_crc && !crc_valid()) {
    return batch_error(DecodeErrc::bad_crc, kCrcAt,
                       fmt::format("stored crc {:#010x}, computed {:#010x}", stored_crc(),
                                   computed_crc()));
  }
  RecordBatch batch;
  batch.header = header();
  if (batch.header.compression() == Compression::none) {
    Reader r(records_section(), kBatchHeaderBytes);
    batch.records = read_records(r, batch.header);
    if (!r.ok()) return batch_error(r.error().code, r.error().offset, r.error().message);
    return batch;
  }
  Result<Bytes> plain = decompress(batch.header.compression(), records_section(),
                                   options.max_decompressed_bytes);
  if (!plain.ok()) {
    const DecodeError& e = plain.error();
    return batch_error(e.code, kBatchHeaderBytes + e.offset, e.message);
  }
  Reader r(*plain);
  batch.records = read_records(r, batch.header);
  if (!r.ok()) {
    // Offsets inside decompressed data do not map to the batch: report the section's start.
    return batch_error(r.error().code, kBatchHeaderBytes,
                       fmt::format("{} records, at byte {} of the decompressed data: {}",
                                   to_string(batch.header.compression()), r.error().offset,
                                   r.error().message));
  }
  return batch;
}

Result<RecordBatch> decode_record_batch(ByteView batch, const BatchDecodeOptions& options) {
  Result<RecordBatchView> view = RecordBatchView::parse(batch);
  if (!view.ok()) return view.error();
  return view->decode(options);
}

Result<BatchSplit> split_batches(ByteView data, bool allow_partial_tail) {
  BatchSplit split;
  size_t at = 0;
  while (at < data.size()) {
    ByteView rest = data.subspan(at);
    size_t total = 0;
    if (rest.size() >= kBatchLengthPrefixBytes) {
      int32_t length = load_i32(rest, kBatchLengthAt);
      total = kBatchLengthPrefixBytes + static_cast<size_t>(std::max(length, 0));
    }
    if (rest.size() < kBatchLengthPrefixBytes || total > rest.size()) {
      if (allow_partial_tail) {
        split.partial_tail = true;
        break;
      }
      return batch_error(DecodeErrc::truncated, data.size(),
                         fmt::format("the batch at byte {} is cut short", at));
    }
    Result<RecordBatchView> view = RecordBatchView::parse(rest.first(total));
    if (!view.ok()) {
      DecodeError e = view.error();
      e.offset += at;
      return e;
    }
    split.batches.push_back(*view);
    at += total;
  }
  split.consumed_bytes = at;
  return split;
}

// ---- building ------------------------------------------------------------------------------

Bytes encode_record_batch(const RecordBatch& batch) {
  SL_ASSERT(batch.records.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  Writer plain;
  Writer scratch;
  for (const Record& record : batch.records) write_record(plain, scratch, record);
  Compression codec = batch.header.compression();
  SL_ASSERT_MSG(static_cast<int>(codec) <= kMaxCodec, "unknown compression codec");
  Bytes section = codec == Compression::none ? plain.take() : compress(codec, plain.data());

  Writer w(kBatchHeaderBytes + section.size());
  write_header(w, batch.header, section.size(), static_cast<int32_t>(batch.records.size()));
  w.raw(section);
  Bytes out = w.take();
  update_crc(out);
  return out;
}

Bytes build_record_batch(const BatchOptions& options, std::span<const NewRecord> records) {
  SL_ASSERT_MSG(!records.empty(), "a record batch needs at least one record");
  SL_ASSERT(records.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  RecordBatch batch;
  BatchHeader& h = batch.header;
  h.base_offset = options.base_offset;
  h.partition_leader_epoch = options.partition_leader_epoch;
  h.attributes = static_cast<int16_t>(
      static_cast<int16_t>(options.compression) |
      (options.timestamp_type == TimestampType::log_append_time ? batch_attributes::kTimestampType
                                                                : 0) |
      (options.transactional ? batch_attributes::kTransactional : 0) |
      (options.control ? batch_attributes::kControl : 0));
  h.last_offset_delta = static_cast<int32_t>(records.size() - 1);
  h.base_timestamp = records.front().timestamp_ms;
  h.max_timestamp = h.base_timestamp;
  h.producer_id = options.producer_id;
  h.producer_epoch = options.producer_epoch;
  h.base_sequence = options.base_sequence;
  batch.records.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const NewRecord& in = records[i];
    h.max_timestamp = std::max(h.max_timestamp, in.timestamp_ms);
    batch.records.push_back(Record{0, in.timestamp_ms - h.base_timestamp, static_cast<int32_t>(i),
                                   in.key, in.value, in.headers});
  }
  return encode_record_batch(batch);
}

void set_base_offset(std::span<uint8_t> batch, Offset base_offset) {
  SL_ASSERT(batch.size() >= kBatchHeaderBytes);
  store_be(batch, kBaseOffsetAt, static_cast<uint64_t>(base_offset.value()), 8);
}

void set_partition_leader_epoch(std::span<uint8_t> batch, LeaderEpoch epoch) {
  SL_ASSERT(batch.size() >= kBatchHeaderBytes);
  store_be(batch, kLeaderEpochAt, static_cast<uint32_t>(epoch.value()), 4);
}

void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms) {
  SL_ASSERT(batch.size() >= kBatchHeaderBytes);
  auto attributes = static_cast<uint16_t>(load_i16(batch, kAttributesAt) |
                                          batch_attributes::kTimestampType);
  store_be(batch, kAttributesAt, attributes, 2);
  store_be(batch, kMaxTimestampAt, static_cast<uint64_t>(timestamp_ms), 8);
  update_crc(batch);
}

void update_crc(std::span<uint8_t> batch) {
  SL_ASSERT(batch.size() >= kBatchHeaderBytes);
  store_be(batch, kCrcAt, crc32c(ByteView(batch).subspan(kBatchCrcStart)), 4);
}

}  // namespace seedlog::protocol
