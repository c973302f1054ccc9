#include "broker/group/records.hpp"

#include "broker/protocol/reader.hpp"
#include "broker/protocol/writer.hpp"

namespace seedlog::broker::group {

namespace proto = seedlog::protocol;

namespace {
constexpr int16_t kOffsetKeyVersion = 1;
constexpr int16_t kGroupKeyVersion = 2;
constexpr int16_t kOffsetValueVersion = 3;
constexpr int16_t kGroupValueVersion = 0;

void expect_version(proto::Reader& r, int16_t got, int16_t want, std::string_view what) {
  if (r.ok() && got != want) r.fail(proto::DecodeErrc::invalid_value, std::string("unknown version of ") + std::string(what));
}
}  // namespace

proto::Bytes encode_key(const RecordKey& key) {
  proto::Writer w;
  if (const auto* k = std::get_if<OffsetKey>(&key)) {
    w.i16(kOffsetKeyVersion);
    w.string(k->group);
    w.string(k->topic);
    w.i32(k->partition);
  } else {
    w.i16(kGroupKeyVersion);
    w.string(std::get<GroupKey>(key).group);
  }
  return w.take();
}

proto::Result<RecordKey> decode_key(proto::ByteView bytes) {
  proto::Reader r(bytes);
  const int16_t version = r.i16();
  RecordKey out;
  if (r.ok() && (version == 0 || version == kOffsetKeyVersion)) {
    OffsetKey k;
    k.group = r.string();
    k.topic = r.string();
    k.partition = r.i32();
    out = std::move(k);
  } else if (r.ok() && version == kGroupKeyVersion) {
    out = GroupKey{r.string()};
  } else if (r.ok()) {
    r.fail(proto::DecodeErrc::invalid_value, "unknown key version");
  }
  r.expect_end("offsets-topic key");
  if (!r.ok()) return r.error();
  return out;
}

proto::Bytes encode_offset_value(const OffsetValue& v) {
  proto::Writer w;
  w.i16(kOffsetValueVersion);
  w.i64(v.offset.value());
  w.i32(v.leader_epoch.value());
  w.string(v.metadata);
  w.i64(v.commit_timestamp_ms);
  return w.take();
}

proto::Result<OffsetValue> decode_offset_value(proto::ByteView bytes) {
  proto::Reader r(bytes);
  expect_version(r, r.i16(), kOffsetValueVersion, "offset value");
  OffsetValue v;
  v.offset = proto::Offset{r.i64()};
  v.leader_epoch = proto::LeaderEpoch{r.i32()};
  v.metadata = r.string();
  v.commit_timestamp_ms = r.i64();
  r.expect_end("offset value");
  if (!r.ok()) return r.error();
  return v;
}

proto::Bytes encode_group_value(const GroupValue& v) {
  proto::Writer w;
  w.i16(kGroupValueVersion);
  w.string(v.protocol_type);
  w.i32(v.generation.value());
  w.string(v.protocol);
  w.string(v.leader);
  w.array_count(v.members.size());
  for (const StoredMember& m : v.members) {
    w.string(m.member_id);
    w.string(m.client_id);
    w.i32(m.session_timeout_ms);
    w.i32(m.rebalance_timeout_ms);
    w.bytes(m.subscription);
    w.bytes(m.assignment);
  }
  return w.take();
}

proto::Result<GroupValue> decode_group_value(proto::ByteView bytes) {
  proto::Reader r(bytes);
  expect_version(r, r.i16(), kGroupValueVersion, "group value");
  GroupValue v;
  v.protocol_type = r.string();
  v.generation = proto::GenerationId{r.i32()};
  v.protocol = r.string();
  v.leader = r.string();
  const auto n = r.array_count(20);
  for (size_t i = 0; r.ok() && n && i < *n; ++i) {
    StoredMember m;
    m.member_id = r.string();
    m.client_id = r.string();
    m.session_timeout_ms = r.i32();
    m.rebalance_timeout_ms = r.i32();
    m.subscription = r.bytes();
    m.assignment = r.bytes();
    v.members.push_back(std::move(m));
  }
  r.expect_end("group value");
  if (!r.ok()) return r.error();
  return v;
}

}  // namespace seedlog::broker::group
