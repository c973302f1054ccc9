// Vocabulary of the Kafka wire protocol: byte buffers, strong types for the ids, epochs and
// offsets that cross the protocol's API, UUIDs, and raw tagged fields.
//
// Strong types follow Redpanda's split of kafka::offset from model::offset: a protocol Offset is
// the 64-bit number on the wire, and a LeaderEpoch cannot be passed where a PartitionEpoch is
// expected. Their values are exactly the wire values (including Kafka's -1 "unknown" sentinels).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sim/strong.hpp"

namespace seedlog::protocol {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

using Offset = Strong<struct OffsetTag, int64_t>;                  // a record's position in a log
using LeaderEpoch = Strong<struct LeaderEpochTag, int32_t>;        // also KRaft's quorum epoch
using PartitionEpoch = Strong<struct PartitionEpochTag, int32_t>;  // bumped on every ISR change
using BrokerId = Strong<struct BrokerIdTag, int32_t>;              // node, replica, leader ids
using BrokerEpoch = Strong<struct BrokerEpochTag, int64_t>;        // from the latest registration
using ProducerId = Strong<struct ProducerIdTag, int64_t>;
using ProducerEpoch = Strong<struct ProducerEpochTag, int16_t>;
using Sequence = Strong<struct SequenceTag, int32_t>;              // idempotent producer sequence
using GenerationId = Strong<struct GenerationIdTag, int32_t>;      // consumer group generation
using CorrelationId = Strong<struct CorrelationIdTag, int32_t>;

// Kafka's UUID (topic ids, incarnation ids): 16 raw bytes, printed as Kafka prints it
// (URL-safe base64 without padding, 22 characters).
struct Uuid {
  std::array<uint8_t, 16> bytes{};

  bool is_zero() const;
  std::string to_string() const;
  bool operator==(const Uuid&) const = default;
};

// A tagged field the schema does not know (KIP-482). Kept verbatim so a message that passes
// through us re-encodes to the same bytes.
struct RawTaggedField {
  uint32_t tag = 0;
  Bytes data;
  bool operator==(const RawTaggedField&) const = default;
};
using UnknownTags = std::vector<RawTaggedField>;

// Lowercase hex of bytes, for reports and tests.
std::string to_hex(ByteView bytes);
// Parses lowercase or uppercase hex; nullopt on odd length or a non-hex digit.
std::optional<Bytes> from_hex(std::string_view hex);

}  // namespace seedlog::protocol
