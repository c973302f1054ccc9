// Schemas of the structures shared by several messages (messages_common.hpp). INTERNAL: see
// schema_io.hpp.
#pragma once

#include "broker/protocol/detail/schema_io.hpp"
#include "broker/protocol/messages_common.hpp"

namespace seedlog::protocol::detail {

template <class Io>
void schema_fields(Io& io, LeaderIdAndEpoch& m) {
  io.field("leader_id", m.leader_id);
  io.field("leader_epoch", m.leader_epoch);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, EpochEndOffset& m) {
  io.field("epoch", m.epoch);
  io.field("end_offset", m.end_offset);
  io.tags(m.unknown_tags);
}

template <class Io>
void schema_fields(Io& io, SnapshotId& m) {
  io.field("end_offset", m.end_offset);
  io.field("epoch", m.epoch);
  io.tags(m.unknown_tags);
}

}  // namespace seedlog::protocol::detail
