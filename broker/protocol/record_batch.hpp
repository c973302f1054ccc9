// Kafka's RecordBatch v2 ("magic 2"), byte-exact.
//
//   offset  size  field
//        0     8  baseOffset            set by the leader on append (not covered by the CRC)
//        8     4  batchLength           bytes after this field
//       12     4  partitionLeaderEpoch  set by the leader on append (not covered by the CRC)
//       16     1  magic                 2
//       17     4  crc                   CRC-32C of bytes 21..end
//       21     2  attributes            bits 0-2 codec, 3 timestamp type, 4 transactional, 5 control
//       23     4  lastOffsetDelta
//       27     8  baseTimestamp
//       35     8  maxTimestamp
//       43     8  producerId
//       51     2  producerEpoch
//       53     4  baseSequence
//       57     4  recordCount
//       61     -  records, compressed as a whole by the codec of the attributes
//
// Each record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
// key (varint length, -1 = null, then bytes), value (likewise), header count varint, and headers
// (key: varint length + bytes, never null; value: varint length, -1 = null, + bytes).
//
// Three levels of use: RecordBatchView reads header fields of an encoded batch without decoding
// records (what a log needs on append, recovery and fetch); decode() validates everything and
// returns the records; build_record_batch()/encode_record_batch() produce batches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "broker/protocol/compression.hpp"
#include "broker/protocol/result.hpp"
#include "broker/protocol/types.hpp"

namespace seedlog::protocol {

inline constexpr size_t kBatchHeaderBytes = 61;
inline constexpr size_t kBatchLengthPrefixBytes = 12;  // baseOffset + batchLength
inline constexpr size_t kBatchCrcStart = 21;           // the CRC covers attributes..end
inline constexpr int8_t kRecordBatchMagic = 2;

enum class TimestampType : uint8_t { create_time = 0, log_append_time = 1 };

namespace batch_attributes {
inline constexpr int16_t kCompressionMask = 0x07;
inline constexpr int16_t kTimestampType = 0x08;
inline constexpr int16_t kTransactional = 0x10;
inline constexpr int16_t kControl = 0x20;
inline constexpr int16_t kDeleteHorizon = 0x40;  // KIP-534: baseTimestamp is a delete horizon
}  // namespace batch_attributes

struct RecordHeader {
  std::string key;
  std::optional<Bytes> value;
  bool operator==(const RecordHeader&) const = default;
};

struct Record {
  int8_t attributes = 0;  // unused by Kafka so far
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::vector<RecordHeader> headers;
  bool operator==(const Record&) const = default;
};

// The fixed header fields of a batch, as on the wire.
struct BatchHeader {
  Offset base_offset{0};
  int32_t batch_length = 0;
  LeaderEpoch partition_leader_epoch{-1};
  int8_t magic = kRecordBatchMagic;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = -1;
  int64_t max_timestamp = -1;
  ProducerId producer_id{-1};
  ProducerEpoch producer_epoch{-1};
  Sequence base_sequence{-1};
  int32_t record_count = 0;

  Compression compression() const;
  TimestampType timestamp_type() const;
  bool is_transactional() const { return (attributes & batch_attributes::kTransactional) != 0; }
  bool is_control() const { return (attributes & batch_attributes::kControl) != 0; }
  Offset last_offset() const { return Offset(base_offset.value() + last_offset_delta); }
  bool operator==(const BatchHeader&) const = default;
};

struct RecordBatch {
  BatchHeader header;
  std::vector<Record> records;
  bool operator==(const RecordBatch&) const = default;
};

struct BatchDecodeOptions {
  size_t max_decompressed_bytes = kDefaultMaxDecompressedBytes;
  bool verify_crc = true;
};

// A validated view of one encoded batch. parse() checks only the fixed header (size, batchLength,
// magic, codec bits, record count): cheap enough to call on every append and fetch. The bytes
// must outlive the view.
class RecordBatchView {
 public:
  // `batch` must hold exactly one batch (12 + batchLength bytes).
  static Result<RecordBatchView> parse(ByteView batch);

  ByteView bytes() const { return bytes_; }
  size_t size_bytes() const { return bytes_.size(); }

  Offset base_offset() const;
  Offset last_offset() const;
  int32_t last_offset_delta() const;
  LeaderEpoch partition_leader_epoch() const;
  int16_t attributes() const;
  Compression compression() const;
  TimestampType timestamp_type() const;
  bool is_transactional() const;
  bool is_control() const;
  int64_t base_timestamp() const;
  int64_t max_timestamp() const;
  ProducerId producer_id() const;
  ProducerEpoch producer_epoch() const;
  Sequence base_sequence() const;
  // base_sequence + last_offset_delta, wrapping past INT32_MAX to 0 as Kafka's sequences do.
  Sequence last_sequence() const;
  int32_t record_count() const;

  uint32_t stored_crc() const;
  uint32_t computed_crc() const;
  bool crc_valid() const { return stored_crc() == computed_crc(); }

  BatchHeader header() const;
  ByteView records_section() const { return bytes_.subspan(kBatchHeaderBytes); }

  // Full validation: CRC (unless disabled), decompression (bounded), every record, the record
  // count, and offset deltas (strictly increasing, within 0..lastOffsetDelta; compaction may
  // leave gaps). Error offsets are offsets into the batch.
  Result<RecordBatch> decode(const BatchDecodeOptions& options = {}) const;

 private:
  explicit RecordBatchView(ByteView bytes) : bytes_(bytes) {}
  ByteView bytes_;
};

Result<RecordBatch> decode_record_batch(ByteView batch, const BatchDecodeOptions& options = {});

// Concatenated batches (a segment, a Produce or Fetch records field), each header validated.
// Kafka may end a Fetch answer with a truncated batch (it cuts at max bytes): with
// allow_partial_tail such a tail ends the list instead of failing.
struct BatchSplit {
  std::vector<RecordBatchView> batches;
  size_t consumed_bytes = 0;  // bytes covered by `batches`
  bool partial_tail = false;
};
Result<BatchSplit> split_batches(ByteView data, bool allow_partial_tail = false);

// ---- building ------------------------------------------------------------------------------

struct NewRecord {
  int64_t timestamp_ms = 0;
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::vector<RecordHeader> headers;
};

struct BatchOptions {
  Offset base_offset{0};
  LeaderEpoch partition_leader_epoch{-1};
  Compression compression = Compression::none;
  TimestampType timestamp_type = TimestampType::create_time;
  bool transactional = false;
  bool control = false;
  ProducerId producer_id{-1};
  ProducerEpoch producer_epoch{-1};
  Sequence base_sequence{-1};
};

// A producer's batch: offset deltas 0..n-1, baseTimestamp = the first record's timestamp,
// maxTimestamp = the largest. REQUIRES: !records.empty()
Bytes build_record_batch(const BatchOptions& options, std::span<const NewRecord> records);

// Encodes `batch` as given, computing batchLength, crc and recordCount (magic is always 2). The
// records are compressed with the codec in header.attributes.
Bytes encode_record_batch(const RecordBatch& batch);

// In-place rewrites a leader makes on append. Neither field is covered by the CRC, so the batch
// stays valid. REQUIRES: batch.size() >= kBatchHeaderBytes
void set_base_offset(std::span<uint8_t> batch, Offset base_offset);
void set_partition_leader_epoch(std::span<uint8_t> batch, LeaderEpoch epoch);
// For LogAppendTime topics: sets maxTimestamp and the timestamp-type bit, then the CRC.
void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms);
// Recomputes and stores the CRC (after changing a covered field).
void update_crc(std::span<uint8_t> batch);

}  // namespace seedlog::protocol
