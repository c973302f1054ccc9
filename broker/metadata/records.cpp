#include "broker/metadata/records.hpp"

#include <fmt/format.h>

#include "broker/protocol/reader.hpp"
#include "broker/protocol/writer.hpp"
#include "sim/random.hpp"

namespace seedlog::broker::metadata {

namespace proto = seedlog::protocol;

namespace {

// Record type bytes: stable on disk, never reused.
enum class Type : uint8_t {
  register_broker = 1,
  unregister_broker = 2,
  fence_broker = 3,
  unfence_broker = 4,
  topic = 5,
  partition = 6,
  partition_change = 7,
  producer_ids = 8,
  no_op = 9,
};

void put_ids(proto::Writer& w, const std::vector<BrokerId>& ids) {
  w.array_count(ids.size());
  for (BrokerId id : ids) w.i32(id.value());
}

std::vector<BrokerId> get_ids(proto::Reader& r) {
  std::vector<BrokerId> ids;
  auto n = r.array_count(4);
  if (!n) return ids;
  ids.reserve(*n);
  for (size_t i = 0; i < *n && r.ok(); ++i) ids.emplace_back(r.i32());
  return ids;
}

struct Encoder {
  proto::Writer& w;
  void operator()(const RegisterBrokerRecord& r) {
    w.u8(static_cast<uint8_t>(Type::register_broker));
    w.u8(0);
    w.i32(r.broker.value());
    w.i64(r.broker_epoch.value());
    w.i64(static_cast<int64_t>(r.incarnation));
    w.u32(r.node);
    w.u16(r.port);
    w.string(r.rack);
  }
  void id_epoch(Type t, BrokerId b, BrokerEpoch e) {
    w.u8(static_cast<uint8_t>(t));
    w.u8(0);
    w.i32(b.value());
    w.i64(e.value());
  }
  void operator()(const UnregisterBrokerRecord& r) { id_epoch(Type::unregister_broker, r.broker, r.broker_epoch); }
  void operator()(const FenceBrokerRecord& r) { id_epoch(Type::fence_broker, r.broker, r.broker_epoch); }
  void operator()(const UnfenceBrokerRecord& r) { id_epoch(Type::unfence_broker, r.broker, r.broker_epoch); }
  void operator()(const TopicRecord& r) {
    w.u8(static_cast<uint8_t>(Type::topic));
    w.u8(0);
    w.string(r.name);
    w.uuid(r.topic_id);
  }
  void operator()(const PartitionRecord& r) {
    w.u8(static_cast<uint8_t>(Type::partition));
    w.u8(0);
    w.uuid(r.topic_id);
    w.i32(r.partition);
    put_ids(w, r.replicas);
    put_ids(w, r.isr);
    w.i32(r.leader.value());
    w.i32(r.leader_epoch.value());
    w.i32(r.partition_epoch.value());
  }
  void operator()(const PartitionChangeRecord& r) {
    w.u8(static_cast<uint8_t>(Type::partition_change));
    w.u8(0);
    w.uuid(r.topic_id);
    w.i32(r.partition);
    put_ids(w, r.isr);
    w.i32(r.leader.value());
    w.i32(r.leader_epoch.value());
    w.i32(r.partition_epoch.value());
    w.boolean(r.unclean);
  }
  void operator()(const ProducerIdsRecord& r) {
    id_epoch(Type::producer_ids, r.broker, r.broker_epoch);
    w.i64(r.next_producer_id);
  }
  void operator()(const NoOpRecord&) {
    w.u8(static_cast<uint8_t>(Type::no_op));
    w.u8(0);
  }
};

std::string ids_to_string(const std::vector<BrokerId>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) out += fmt::format("{}{}", i ? "," : "", ids[i]);
  return out + "]";
}

}  // namespace

proto::Bytes encode(const Record& record) {
  proto::Writer w(64);
  std::visit(Encoder{w}, record);
  return w.take();
}

proto::Result<Record> decode(proto::ByteView bytes) {
  proto::Reader r(bytes);
  const auto type = static_cast<Type>(r.u8());
  const uint8_t version = r.u8();
  if (!r.ok()) return r.error();
  if (version != 0) return proto::DecodeError{proto::DecodeErrc::unsupported_version, 1, fmt::format("metadata record version {}", version)};
  Record out;
  switch (type) {
    case Type::register_broker: {
      RegisterBrokerRecord x;
      x.broker = BrokerId{r.i32()};
      x.broker_epoch = BrokerEpoch{r.i64()};
      x.incarnation = static_cast<uint64_t>(r.i64());
      x.node = r.u32();
      x.port = r.u16();
      x.rack = r.string();
      out = x;
      break;
    }
    case Type::unregister_broker:
    case Type::fence_broker:
    case Type::unfence_broker:
    case Type::producer_ids: {
      const BrokerId b{r.i32()};
      const BrokerEpoch e{r.i64()};
      if (type == Type::unregister_broker) out = UnregisterBrokerRecord{b, e};
      else if (type == Type::fence_broker) out = FenceBrokerRecord{b, e};
      else if (type == Type::unfence_broker) out = UnfenceBrokerRecord{b, e};
      else out = ProducerIdsRecord{b, e, r.i64()};
      break;
    }
    case Type::topic: {
      TopicRecord x;
      x.name = r.string();
      x.topic_id = r.uuid();
      out = x;
      break;
    }
    case Type::partition: {
      PartitionRecord x;
      x.topic_id = r.uuid();
      x.partition = r.i32();
      x.replicas = get_ids(r);
      x.isr = get_ids(r);
      x.leader = BrokerId{r.i32()};
      x.leader_epoch = LeaderEpoch{r.i32()};
      x.partition_epoch = PartitionEpoch{r.i32()};
      out = x;
      break;
    }
    case Type::partition_change: {
      PartitionChangeRecord x;
      x.topic_id = r.uuid();
      x.partition = r.i32();
      x.isr = get_ids(r);
      x.leader = BrokerId{r.i32()};
      x.leader_epoch = LeaderEpoch{r.i32()};
      x.partition_epoch = PartitionEpoch{r.i32()};
      x.unclean = r.boolean();
      out = x;
      break;
    }
    case Type::no_op:
      out = NoOpRecord{};
      break;
    default:
      return proto::DecodeError{proto::DecodeErrc::invalid_value, 0, fmt::format("unknown metadata record type {}", static_cast<int>(type))};
  }
  r.expect_end("metadata record");
  if (!r.ok()) return r.error();
  return out;
}

std::string to_string(const Record& record) {
  struct Printer {
    std::string operator()(const RegisterBrokerRecord& r) const {
      return fmt::format("RegisterBroker(broker={} epoch={} incarnation={:x} node={} port={}{})", r.broker, r.broker_epoch,
                         r.incarnation, r.node, r.port, r.rack.empty() ? "" : " rack=" + r.rack);
    }
    std::string operator()(const UnregisterBrokerRecord& r) const {
      return fmt::format("UnregisterBroker(broker={} epoch={})", r.broker, r.broker_epoch);
    }
    std::string operator()(const FenceBrokerRecord& r) const {
      return fmt::format("FenceBroker(broker={} epoch={})", r.broker, r.broker_epoch);
    }
    std::string operator()(const UnfenceBrokerRecord& r) const {
      return fmt::format("UnfenceBroker(broker={} epoch={})", r.broker, r.broker_epoch);
    }
    std::string operator()(const TopicRecord& r) const {
      return fmt::format("Topic(name={} id={})", r.name, r.topic_id.to_string());
    }
    std::string operator()(const PartitionRecord& r) const {
      return fmt::format("Partition({}/{} replicas={} isr={} leader={} epoch={} pe={})", r.topic_id.to_string().substr(0, 8),
                         r.partition, ids_to_string(r.replicas), ids_to_string(r.isr), r.leader, r.leader_epoch,
                         r.partition_epoch);
    }
    std::string operator()(const PartitionChangeRecord& r) const {
      return fmt::format("PartitionChange({}/{} isr={} leader={} epoch={} pe={}{})", r.topic_id.to_string().substr(0, 8),
                         r.partition, ids_to_string(r.isr), r.leader, r.leader_epoch, r.partition_epoch,
                         r.unclean ? " UNCLEAN" : "");
    }
    std::string operator()(const ProducerIdsRecord& r) const {
      return fmt::format("ProducerIds(broker={} next={})", r.broker, r.next_producer_id);
    }
    std::string operator()(const NoOpRecord&) const { return "NoOp"; }
  };
  return std::visit(Printer{}, record);
}

Uuid make_topic_id(const std::string& name, int64_t creation_offset) {
  Uuid id;
  const uint64_t a = sim::mix64(sim::fnv1a64(name) ^ static_cast<uint64_t>(creation_offset));
  const uint64_t b = sim::mix64(a ^ 0x746f706963ULL);
  for (int i = 0; i < 8; ++i) {
    id.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(a >> (8 * i));
    id.bytes[static_cast<size_t>(8 + i)] = static_cast<uint8_t>(b >> (8 * i));
  }
  return id;
}

}  // namespace seedlog::broker::metadata
