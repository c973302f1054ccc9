#include "broker/controller/state_machine.hpp"

#include <fmt/format.h>

namespace seedlog::broker::controller {

std::string ids_text(const std::vector<metadata::BrokerId>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) out += fmt::format("{}{}", i ? "," : "", ids[i]);
  return out;
}

void MetadataStateMachine::apply(raft::Offset base_offset, raft::Epoch, const std::vector<raft::Bytes>& records) {
  int64_t offset = base_offset.value();
  for (const raft::Bytes& bytes : records) {
    auto record = metadata::decode(bytes);
    // The quorum only commits what a controller proposed after encoding it: a record that does not
    // decode or does not fit the image is a bug in this program, not an operating error.
    SL_ASSERT_MSG(record.ok(), fmt::format("metadata record at offset {} does not decode: {}", offset,
                                           record.ok() ? "" : record.error().to_string()));
    const Image before = listeners_.empty() ? Image() : image_;
    auto why = image_.apply(record.value(), offset);
    SL_ASSERT_MSG(!why, fmt::format("metadata record {} at offset {} does not fit: {}", metadata::to_string(record.value()),
                                    offset, why.value_or("")));
    emit(record.value(), offset);
    for (auto& l : listeners_) l(record.value(), before, image_);
    ++offset;
  }
  // Batch boundaries matter to checkers: the controller writes each change as one batch (a fence
  // and the ISR changes it implies), and the image is only meant to be consistent between batches.
  env_.emit("metadata.applied", {{"last_offset", offset - 1}});
}

sim::Status MetadataStateMachine::restore(raft::ByteView snapshot, raft::Offset next_offset) {
  auto img = Image::restore(snapshot);
  if (!img.ok()) return sim::Errc::invalid_argument;
  SL_ASSERT(img->last_offset() + 1 == next_offset.value());
  const Image before = image_;
  image_ = std::move(img.value());
  // Checkers see a restore as the whole image stated again, between a restored and an applied.
  env_.emit("metadata.restored", {{"last_offset", image_.last_offset()}});
  for (const auto& [id, b] : image_.brokers()) {
    env_.emit("metadata.broker", {{"broker", id}, {"broker_epoch", b.epoch.value()}, {"fenced", b.fenced},
                                  {"registered", true}, {"offset", image_.last_offset()}});
  }
  for (const auto& [name, t] : image_.topics()) {
    for (const auto& p : t.partitions) {
      env_.emit("metadata.partition", {{"topic", name}, {"partition", p.partition}, {"leader", p.leader.value()},
                                       {"leader_epoch", p.leader_epoch.value()}, {"partition_epoch", p.partition_epoch.value()},
                                       {"isr", ids_text(p.isr)}, {"replicas", ids_text(p.replicas)}, {"unclean", false},
                                       {"offset", image_.last_offset()}});
    }
  }
  env_.emit("metadata.applied", {{"last_offset", image_.last_offset()}});
  // Listeners see a restore as a no-op record applied to the whole image.
  for (auto& l : listeners_) l(metadata::NoOpRecord{}, before, image_);
  return sim::Status();
}

void MetadataStateMachine::on_leader_change(std::optional<raft::BrokerId> leader, raft::Epoch epoch) {
  for (auto& l : leader_listeners_) l(leader, epoch);
}

void MetadataStateMachine::emit(const metadata::Record& record, int64_t offset) {
  if (const auto* r = std::get_if<metadata::PartitionRecord>(&record)) {
    const metadata::TopicInfo* t = image_.topic_by_id(r->topic_id);
    env_.emit("metadata.partition", {{"topic", t ? t->name : std::string("?")}, {"partition", r->partition},
                                     {"leader", r->leader.value()}, {"leader_epoch", r->leader_epoch.value()},
                                     {"partition_epoch", r->partition_epoch.value()}, {"isr", ids_text(r->isr)},
                                     {"replicas", ids_text(r->replicas)}, {"unclean", false}, {"offset", offset}});
  } else if (const auto* c = std::get_if<metadata::PartitionChangeRecord>(&record)) {
    const metadata::TopicInfo* t = image_.topic_by_id(c->topic_id);
    const PartitionInfo* p = t ? &t->partitions[static_cast<size_t>(c->partition)] : nullptr;
    env_.emit("metadata.partition", {{"topic", t ? t->name : std::string("?")}, {"partition", c->partition},
                                     {"leader", c->leader.value()}, {"leader_epoch", c->leader_epoch.value()},
                                     {"partition_epoch", c->partition_epoch.value()}, {"isr", ids_text(c->isr)},
                                     {"replicas", p ? ids_text(p->replicas) : std::string()}, {"unclean", c->unclean},
                                     {"offset", offset}});
  } else if (const auto* b = std::get_if<metadata::RegisterBrokerRecord>(&record)) {
    env_.emit("metadata.broker", {{"broker", b->broker.value()}, {"broker_epoch", b->broker_epoch.value()},
                                  {"fenced", true}, {"registered", true}, {"offset", offset}});
  } else if (const auto* f = std::get_if<metadata::FenceBrokerRecord>(&record)) {
    env_.emit("metadata.broker", {{"broker", f->broker.value()}, {"broker_epoch", f->broker_epoch.value()},
                                  {"fenced", true}, {"registered", true}, {"offset", offset}});
  } else if (const auto* u = std::get_if<metadata::UnfenceBrokerRecord>(&record)) {
    env_.emit("metadata.broker", {{"broker", u->broker.value()}, {"broker_epoch", u->broker_epoch.value()},
                                  {"fenced", false}, {"registered", true}, {"offset", offset}});
  } else if (const auto* x = std::get_if<metadata::UnregisterBrokerRecord>(&record)) {
    env_.emit("metadata.broker", {{"broker", x->broker.value()}, {"broker_epoch", x->broker_epoch.value()},
                                  {"fenced", true}, {"registered", false}, {"offset", offset}});
  }
}

}  // namespace seedlog::broker::controller
