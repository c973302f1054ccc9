// Structures shared by several Kafka messages, and the includes every message header needs.
//
// Conventions of all message structs (messages_*.hpp):
//   - Field names are Kafka's schema names in snake_case, in wire order; defaults are Kafka's.
//   - Ids, epochs and offsets use the strong types of types.hpp; error codes use ErrorCode.
//   - A known tagged field is a std::optional: present on the wire iff it has a value, so a
//     decoded message re-encodes to the same bytes.
//   - unknown_tags keeps tagged fields the schema does not know (only in flexible versions).
//   - Fields that exist only at some of an API's supported versions say so ("v13+"); at other
//     versions they are neither written nor read and keep their defaults.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/protocol/api.hpp"
#include "broker/protocol/error_code.hpp"
#include "broker/protocol/types.hpp"

namespace seedlog::protocol {

struct LeaderIdAndEpoch {
  BrokerId leader_id{-1};
  LeaderEpoch leader_epoch{-1};
  UnknownTags unknown_tags;
  bool operator==(const LeaderIdAndEpoch&) const = default;
};

struct EpochEndOffset {
  LeaderEpoch epoch{-1};
  Offset end_offset{-1};
  UnknownTags unknown_tags;
  bool operator==(const EpochEndOffset&) const = default;
};

// A KRaft snapshot's identity: the offset it ends at and the epoch of that offset.
struct SnapshotId {
  Offset end_offset{-1};
  LeaderEpoch epoch{-1};
  UnknownTags unknown_tags;
  bool operator==(const SnapshotId&) const = default;
};

}  // namespace seedlog::protocol
