#include "broker/metadata/image.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "broker/protocol/reader.hpp"
#include "broker/protocol/writer.hpp"

namespace seedlog::broker::metadata {

namespace proto = seedlog::protocol;

namespace {

std::string id_key(const Uuid& id) { return std::string(id.bytes.begin(), id.bytes.end()); }

bool contains(const std::vector<BrokerId>& v, BrokerId b) { return std::find(v.begin(), v.end(), b) != v.end(); }

bool distinct(const std::vector<BrokerId>& v) { return std::set<BrokerId>(v.begin(), v.end()).size() == v.size(); }

std::optional<std::string> check_members(const std::vector<BrokerId>& replicas, const std::vector<BrokerId>& isr,
                                         BrokerId leader, bool unclean) {
  if (!distinct(isr)) return "the ISR repeats a broker";
  for (BrokerId b : isr) {
    if (!contains(replicas, b)) return fmt::format("ISR member {} is not a replica", b);
  }
  if (leader == kNoLeader) return std::nullopt;
  if (!contains(replicas, leader)) return fmt::format("leader {} is not a replica", leader);
  if (!unclean && !contains(isr, leader)) return fmt::format("leader {} is not in the ISR", leader);
  return std::nullopt;
}

}  // namespace

bool PartitionInfo::in_isr(BrokerId b) const { return contains(isr, b); }
bool PartitionInfo::is_replica(BrokerId b) const { return contains(replicas, b); }

const BrokerInfo* Image::broker(BrokerId id) const {
  auto it = brokers_.find(id.value());
  return it == brokers_.end() ? nullptr : &it->second;
}

const TopicInfo* Image::topic(std::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

const TopicInfo* Image::topic_by_id(const Uuid& id) const {
  auto it = topic_names_.find(id_key(id));
  return it == topic_names_.end() ? nullptr : topic(it->second);
}

const PartitionInfo* Image::partition(std::string_view name, int32_t p) const {
  const TopicInfo* t = topic(name);
  if (t == nullptr || p < 0 || static_cast<size_t>(p) >= t->partitions.size()) return nullptr;
  return &t->partitions[static_cast<size_t>(p)];
}

PartitionInfo* Image::mutable_partition(const Uuid& id, int32_t p) {
  auto name = topic_names_.find(id_key(id));
  if (name == topic_names_.end()) return nullptr;
  TopicInfo& t = topics_.find(name->second)->second;
  if (p < 0 || static_cast<size_t>(p) >= t.partitions.size()) return nullptr;
  return &t.partitions[static_cast<size_t>(p)];
}

std::optional<std::string> Image::check(const Record& record) const {
  struct Checker {
    const Image& img;
    std::optional<std::string> same_epoch(BrokerId b, BrokerEpoch e) const {
      const BrokerInfo* info = img.broker(b);
      if (info == nullptr) return fmt::format("broker {} is not registered", b);
      if (info->epoch != e) return fmt::format("broker {} has epoch {}, not {}", b, info->epoch, e);
      return std::nullopt;
    }
    std::optional<std::string> operator()(const RegisterBrokerRecord& r) const {
      const BrokerInfo* info = img.broker(r.broker);
      if (info != nullptr && info->epoch >= r.broker_epoch)
        return fmt::format("broker {} re-registers with epoch {} <= {}", r.broker, r.broker_epoch, info->epoch);
      return std::nullopt;
    }
    std::optional<std::string> operator()(const UnregisterBrokerRecord& r) const { return same_epoch(r.broker, r.broker_epoch); }
    std::optional<std::string> operator()(const FenceBrokerRecord& r) const { return same_epoch(r.broker, r.broker_epoch); }
    std::optional<std::string> operator()(const UnfenceBrokerRecord& r) const { return same_epoch(r.broker, r.broker_epoch); }
    std::optional<std::string> operator()(const TopicRecord& r) const {
      if (r.name.empty()) return "empty topic name";
      if (img.topic(r.name) != nullptr) return fmt::format("topic {} exists", r.name);
      if (img.topic_by_id(r.topic_id) != nullptr) return "topic id in use";
      return std::nullopt;
    }
    std::optional<std::string> operator()(const PartitionRecord& r) const {
      const TopicInfo* t = img.topic_by_id(r.topic_id);
      if (t == nullptr) return "partition of an unknown topic";
      if (static_cast<size_t>(r.partition) != t->partitions.size())
        return fmt::format("partition {} of {} out of order (next is {})", r.partition, t->name, t->partitions.size());
      if (r.replicas.empty() || !distinct(r.replicas)) return "replicas empty or repeated";
      return check_members(r.replicas, r.isr, r.leader, false);
    }
    std::optional<std::string> operator()(const PartitionChangeRecord& r) const {
      const TopicInfo* t = img.topic_by_id(r.topic_id);
      if (t == nullptr || r.partition < 0 || static_cast<size_t>(r.partition) >= t->partitions.size())
        return "change of an unknown partition";
      const PartitionInfo& p = t->partitions[static_cast<size_t>(r.partition)];
      if (r.partition_epoch.value() != p.partition_epoch.value() + 1)
        return fmt::format("partition epoch {} after {}", r.partition_epoch, p.partition_epoch);
      if (r.leader_epoch < p.leader_epoch) return fmt::format("leader epoch {} after {}", r.leader_epoch, p.leader_epoch);
      if (r.leader != p.leader && r.leader_epoch == p.leader_epoch) return "leader changed without a new leader epoch";
      if (r.unclean && r.isr != std::vector<BrokerId>{r.leader}) return "an unclean leader must be the whole ISR";
      return check_members(p.replicas, r.isr, r.leader, r.unclean);
    }
    std::optional<std::string> operator()(const ProducerIdsRecord& r) const {
      if (r.next_producer_id <= img.next_producer_id()) return "producer ids move backwards";
      return std::nullopt;
    }
    std::optional<std::string> operator()(const NoOpRecord&) const { return std::nullopt; }
  };
  return std::visit(Checker{*this}, record);
}

std::optional<std::string> Image::apply(const Record& record, int64_t offset) {
  if (offset <= last_offset_) return fmt::format("offset {} after {}", offset, last_offset_);
  if (auto why = check(record)) return why;
  struct Applier {
    Image& img;
    void operator()(const RegisterBrokerRecord& r) {
      img.brokers_[r.broker.value()] = BrokerInfo{r.broker, r.broker_epoch, r.incarnation, true, r.node, r.port, r.rack};
    }
    void operator()(const UnregisterBrokerRecord& r) { img.brokers_.erase(r.broker.value()); }
    void operator()(const FenceBrokerRecord& r) { img.brokers_[r.broker.value()].fenced = true; }
    void operator()(const UnfenceBrokerRecord& r) { img.brokers_[r.broker.value()].fenced = false; }
    void operator()(const TopicRecord& r) {
      img.topics_[r.name] = TopicInfo{r.name, r.topic_id, {}};
      img.topic_names_[id_key(r.topic_id)] = r.name;
    }
    void operator()(const PartitionRecord& r) {
      TopicInfo& t = img.topics_[img.topic_names_[id_key(r.topic_id)]];
      t.partitions.push_back(PartitionInfo{r.topic_id, t.name, r.partition, r.replicas, r.isr, r.leader, r.leader_epoch,
                                           r.partition_epoch});
    }
    void operator()(const PartitionChangeRecord& r) {
      PartitionInfo* p = img.mutable_partition(r.topic_id, r.partition);
      p->isr = r.isr;
      p->leader = r.leader;
      p->leader_epoch = r.leader_epoch;
      p->partition_epoch = r.partition_epoch;
    }
    void operator()(const ProducerIdsRecord& r) { img.next_producer_id_ = r.next_producer_id; }
    void operator()(const NoOpRecord&) {}
  };
  std::visit(Applier{*this}, record);
  last_offset_ = offset;
  return std::nullopt;
}

// Snapshot: the records that rebuild the image, each length-prefixed, after a header with the
// offset and the producer id counter. Restoring replays them into an empty image.
proto::Bytes Image::snapshot() const {
  proto::Writer w;
  w.u32(0x534c4d31);  // "SLM1"
  w.i64(last_offset_);
  w.i64(next_producer_id_);
  std::vector<Record> records;
  for (const auto& [id, b] : brokers_) {
    records.push_back(RegisterBrokerRecord{b.id, b.epoch, b.incarnation, b.node, b.port, b.rack});
    if (!b.fenced) records.push_back(UnfenceBrokerRecord{b.id, b.epoch});
  }
  for (const auto& [name, t] : topics_) {
    records.push_back(TopicRecord{t.name, t.id});
    for (const PartitionInfo& p : t.partitions) {
      records.push_back(PartitionRecord{p.topic_id, p.partition, p.replicas, p.isr, p.leader, p.leader_epoch, p.partition_epoch});
    }
  }
  w.array_count(records.size());
  for (const Record& r : records) w.bytes(encode(r));
  return w.take();
}

proto::Result<Image> Image::restore(proto::ByteView bytes) {
  proto::Reader r(bytes);
  if (r.u32() != 0x534c4d31 && r.ok()) return proto::DecodeError{proto::DecodeErrc::bad_magic, 0, "not a metadata snapshot"};
  const int64_t last = r.i64();
  const int64_t next_pid = r.i64();
  auto n = r.array_count(4);
  if (!r.ok() || !n) return r.ok() ? proto::DecodeError{proto::DecodeErrc::invalid_length, r.offset(), "snapshot record count"} : r.error();
  Image img;
  for (size_t i = 0; i < *n; ++i) {
    const proto::Bytes one = r.bytes();
    if (!r.ok()) return r.error();
    auto rec = decode(one);
    if (!rec.ok()) return rec.error();
    if (auto why = img.apply(rec.value(), static_cast<int64_t>(i))) {
      return proto::DecodeError{proto::DecodeErrc::invalid_value, r.offset(), "snapshot record does not fit: " + *why};
    }
  }
  r.expect_end("metadata snapshot");
  if (!r.ok()) return r.error();
  img.last_offset_ = last;
  img.next_producer_id_ = next_pid;
  return img;
}

}  // namespace seedlog::broker::metadata
