// Produce v7 on the leader: acks 0, 1 and all; min.insync.replicas; the delayed produce.
//
// Per partition: the leader checks that it leads, that acks=all has an ISR of at least
// min.insync.replicas (NOT_ENOUGH_REPLICAS, before anything is written), checks the idempotent
// producer's sequences, appends (offsets and its epoch stamped) and records the batch in the
// producer state. acks=0 and acks=1 answer at once (the RPC server sends nothing for acks=0).
// acks=all waits, as Kafka's DelayedProduce, until the HW passes the last offset of every appended
// batch, the request timeout passes (REQUEST_TIMED_OUT), the leadership changes
// (NOT_LEADER_OR_FOLLOWER) or the ISR drops below min.insync.replicas (NOT_ENOUGH_REPLICAS_AFTER_APPEND).
// The last three have an unknown outcome for the client: the batch may still become committed.
#include <fmt/format.h>

#include "broker/replication/replica_manager.hpp"

namespace seedlog::broker::replication {

namespace proto = seedlog::protocol;

namespace {

struct ProduceOutcome {
  std::string topic;
  int32_t partition = 0;
  Partition* replica = nullptr;
  LeaderAppend append;
  bool waiting = false;  // acks=all, appended, not answered yet
};


}  // namespace

proto::Response ReplicaManager::produce(const proto::Request& request) {
  const auto& req = std::get<proto::ProduceRequest>(request.body);
  std::vector<ProduceOutcome> outcomes;
  for (const auto& topic : req.topics) {
    for (const auto& part : topic.partitions) {
      ProduceOutcome o{topic.name, part.index, partition(topic.name, part.index), {}, false};
      LeaderAppend& a = o.append;
      if (req.acks != 0 && req.acks != 1 && req.acks != -1) {
        a.error = proto::ErrorCode::invalid_required_acks;
      } else if (o.replica == nullptr || o.replica->role() != Role::leader) {
        a.error = image().partition(topic.name, part.index) ? proto::ErrorCode::not_leader_or_follower
                                                            : proto::ErrorCode::unknown_topic_or_partition;
      } else if (!part.records || part.records->empty()) {
        a.error = proto::ErrorCode::corrupt_message;
      } else if (req.acks == -1 && !config_.defects.unclean_isr_of_one &&
                 o.replica->isr_size_for_min_insync() < static_cast<size_t>(o.replica->min_insync())) {
        a.error = proto::ErrorCode::not_enough_replicas;
      } else {
        a = o.replica->append_as_leader(*part.records);
        o.waiting = req.acks == -1 && a.error == proto::ErrorCode::none;
      }
      outcomes.push_back(std::move(o));
    }
  }
  const sim::Instant deadline = env_.deadline_after(sim::Duration::ms(std::max(req.timeout_ms, 0)));
  std::vector<Partition*> awaited;
  for (const ProduceOutcome& o : outcomes) {
    if (o.waiting) awaited.push_back(o.replica);
  }
  PartitionWatch watch(env_.scheduler(), std::move(awaited));
  // Bounded by the deadline: each round either answers a partition or waits for a change of one.
  while (true) {
    bool open = false;
    for (ProduceOutcome& o : outcomes) {
      if (!o.waiting) continue;
      Partition& p = *o.replica;
      if (p.role_generation() != o.append.generation || p.role() != Role::leader) {
        o.append.error = proto::ErrorCode::not_leader_or_follower;
      } else if (p.high_watermark() > o.append.last_offset || config_.defects.acks_all_on_leader_append) {
        o.append.error = proto::ErrorCode::none;
      } else if (!config_.defects.unclean_isr_of_one && p.isr_size_for_min_insync() < static_cast<size_t>(p.min_insync())) {
        o.append.error = proto::ErrorCode::not_enough_replicas_after_append;
      } else {
        open = true;
        continue;
      }
      o.waiting = false;
    }
    if (!open) break;
    if (!watch.wait_until(deadline) && env_.scheduler().now() >= deadline) {
      for (ProduceOutcome& o : outcomes) {
        if (!o.waiting) continue;
        o.waiting = false;
        o.append.error = proto::ErrorCode::request_timed_out;
      }
      break;
    }
  }
  proto::ProduceResponse resp;
  for (const ProduceOutcome& o : outcomes) {
    if (resp.responses.empty() || resp.responses.back().name != o.topic) resp.responses.push_back({o.topic, {}});
    proto::ProduceResponse::Partition part;
    part.index = o.partition;
    part.error_code = o.append.error;
    if (o.append.error == proto::ErrorCode::none) part.base_offset = o.append.first_offset;
    part.log_start_offset = o.replica && o.replica->is_open() ? o.replica->log_start() : proto::Offset{-1};
    resp.responses.back().partitions.push_back(part);
    const Partition* p = o.replica;
    env_.emit("replica.produce",
              {{"topic", o.topic}, {"partition", o.partition}, {"acks", static_cast<int>(req.acks)},
               {"error", proto::to_string(o.append.error)}, {"first_offset", o.append.first_offset.value()},
               {"last_offset", o.append.last_offset.value()}, {"duplicate", o.append.duplicate},
               {"hw", p && p->is_open() ? p->high_watermark().value() : int64_t{-1}},
               {"isr_size", p ? static_cast<uint64_t>(p->isr_size_for_min_insync()) : uint64_t{0}},
               {"min_insync", p ? p->min_insync() : 0}});
  }
  return respond(request, std::move(resp));
}

}  // namespace seedlog::broker::replication
