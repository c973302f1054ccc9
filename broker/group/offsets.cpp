// OffsetCommit, OffsetFetch, and the coordinator's writes to its offsets partitions.
#include <fmt/format.h>

#include "broker/group/coordinator.hpp"
#include "broker/group/group_state.hpp"
#include "broker/protocol/record_batch.hpp"

namespace seedlog::broker::group {

namespace proto = seedlog::protocol;
using proto::ErrorCode;

ErrorCode GroupCoordinator::commit_fencing(const Group* g, const proto::OffsetCommitRequest& req) const {
  if (config_.defects.commit_from_stale_generation) return ErrorCode::none;
  // A commit outside group management (no generation, no member) is fine while no member is in.
  const bool simple = req.generation_id.value() < 0 && req.member_id.empty();
  if (g == nullptr || g->members.empty()) {
    if (simple) return ErrorCode::none;
    return req.member_id.empty() ? ErrorCode::illegal_generation : ErrorCode::unknown_member_id;
  }
  if (g->members.count(req.member_id) == 0) return ErrorCode::unknown_member_id;
  if (req.generation_id != g->generation) return ErrorCode::illegal_generation;
  // Between the join and the leader's assignment nobody knows what it owns; during the join phase
  // the current generation still holds (members commit in onPartitionsRevoked then).
  if (g->state == GroupState::completing_rebalance) return ErrorCode::rebalance_in_progress;
  return ErrorCode::none;
}

proto::OffsetCommitResponse GroupCoordinator::commit(const proto::OffsetCommitRequest& req) {
  int32_t partition = 0;
  ErrorCode e = check_coordinator(req.group_id, &partition);
  std::shared_ptr<Group> g = e == ErrorCode::none ? find(req.group_id) : nullptr;
  if (e == ErrorCode::none) e = commit_fencing(g.get(), req);
  std::vector<std::pair<proto::Bytes, std::optional<proto::Bytes>>> kvs;
  const int64_t now_ms = env_.wall_clock_ms();
  if (e == ErrorCode::none) {
    g = get_or_create(req.group_id, partition);
    auto m = g->members.find(req.member_id);
    if (m != g->members.end()) m->second.heartbeat_deadline = env_.now() + sim::Duration::ms(m->second.session_timeout_ms);
    const bool stale = req.generation_id != g->generation || (!req.member_id.empty() && m == g->members.end());
    for (const auto& t : req.topics) {
      for (const auto& p : t.partitions) {
        OffsetValue v{p.committed_offset, p.committed_leader_epoch, p.committed_metadata.value_or(""), now_ms};
        kvs.emplace_back(encode_key(OffsetKey{req.group_id, t.name, p.partition_index}), encode_offset_value(v));
        env_.emit("group.commit.accepted",
                  {{"group", req.group_id}, {"member", req.member_id}, {"generation", req.generation_id.value()},
                   {"topic", t.name}, {"partition", p.partition_index}, {"offset", p.committed_offset.value()},
                   {"current_generation", g->generation.value()}, {"stale", stale}});
      }
    }
    if (!kvs.empty()) e = write(partition, kvs);
    if (e == ErrorCode::none && !g->dead) {
      for (const auto& t : req.topics) {
        for (const auto& p : t.partitions) {
          g->offsets[{t.name, p.partition_index}] =
              OffsetValue{p.committed_offset, p.committed_leader_epoch, p.committed_metadata.value_or(""), now_ms};
        }
      }
    }
    env_.emit("group.commit.written", {{"group", req.group_id}, {"member", req.member_id}, {"error", proto::to_string(e)},
                                       {"partitions", static_cast<uint64_t>(kvs.size())}});
  }
  proto::OffsetCommitResponse out;
  for (const auto& t : req.topics) {
    proto::OffsetCommitResponse::Topic topic{t.name, {}};
    for (const auto& p : t.partitions) topic.partitions.push_back({p.partition_index, e});
    out.topics.push_back(std::move(topic));
  }
  return out;
}

proto::OffsetFetchResponse GroupCoordinator::fetch_offsets(const proto::OffsetFetchRequest& req) {
  proto::OffsetFetchResponse out;
  int32_t partition = 0;
  out.error_code = check_coordinator(req.group_id, &partition);
  if (out.error_code != ErrorCode::none) return out;
  std::shared_ptr<Group> g = find(req.group_id);
  auto answer = [&](const std::string& topic, int32_t index) {
    proto::OffsetFetchResponse::Partition p;
    p.partition_index = index;
    if (g) {
      auto it = g->offsets.find({topic, index});
      if (it != g->offsets.end()) {
        p.committed_offset = it->second.offset;
        p.committed_leader_epoch = it->second.leader_epoch;
        p.metadata = it->second.metadata;
      }
    }
    return p;
  };
  if (req.topics) {
    for (const auto& t : *req.topics) {
      proto::OffsetFetchResponse::Topic topic{t.name, {}};
      for (int32_t index : t.partition_indexes) topic.partitions.push_back(answer(t.name, index));
      out.topics.push_back(std::move(topic));
    }
  } else if (g) {
    for (const auto& [tp, v] : g->offsets) {
      if (out.topics.empty() || out.topics.back().name != tp.first) out.topics.push_back({tp.first, {}});
      out.topics.back().partitions.push_back(answer(tp.first, tp.second));
    }
  }
  return out;
}

// ---- writes ------------------------------------------------------------------------------------

ErrorCode GroupCoordinator::write(int32_t partition, std::vector<std::pair<proto::Bytes, std::optional<proto::Bytes>>> kvs) {
  SL_ASSERT(!kvs.empty());
  replication::Partition* p = replicas_.partition(kOffsetsTopic, partition);
  auto load = loads_.find(partition);
  if (p == nullptr || p->role() != replication::Role::leader || load == loads_.end() ||
      load->second.role_generation != p->role_generation()) {
    return ErrorCode::not_coordinator;
  }
  if (p->isr_size_for_min_insync() < static_cast<size_t>(p->min_insync())) return ErrorCode::coordinator_not_available;
  std::vector<proto::NewRecord> records;
  for (auto& [k, v] : kvs) records.push_back(proto::NewRecord{env_.wall_clock_ms(), std::move(k), std::move(v), {}});
  const proto::Bytes batch = proto::build_record_batch(proto::BatchOptions{}, records);
  const replication::LeaderAppend a = p->append_as_leader(batch);
  if (a.error != ErrorCode::none) {
    return a.error == ErrorCode::not_leader_or_follower ? ErrorCode::not_coordinator : ErrorCode::coordinator_not_available;
  }
  // acks=all: answered once the HW passed the batch (Kafka maps the "maybe later" outcomes of an
  // internal write to COORDINATOR_NOT_AVAILABLE; the client retries).
  const sim::Instant deadline = env_.deadline_after(config_.write_timeout);
  replication::PartitionWatch watch(env_.scheduler(), {p});
  while (true) {
    if (p->role_generation() != a.generation || p->role() != replication::Role::leader) return ErrorCode::not_coordinator;
    if (p->high_watermark() > a.last_offset) return ErrorCode::none;
    if (p->isr_size_for_min_insync() < static_cast<size_t>(p->min_insync())) return ErrorCode::coordinator_not_available;
    // The deadline is a global instant (deadline_after): compare it with the scheduler's time, not
    // the node's drifting clock, or a slow clock never reaches it and this loop spins in place.
    if (!watch.wait_until(deadline) && env_.scheduler().now() >= deadline) return ErrorCode::coordinator_not_available;
  }
}

ErrorCode GroupCoordinator::write_group(Group& g) {
  GroupValue v;
  v.protocol_type = g.protocol_type;
  v.generation = g.generation;
  v.protocol = g.protocol;
  v.leader = g.leader;
  for (const auto& [id, m] : g.members) {
    const proto::Bytes* meta = m.metadata_for(g.protocol);
    v.members.push_back({id, m.client_id, m.session_timeout_ms, m.rebalance_timeout_ms, meta ? *meta : proto::Bytes{},
                         m.assignment});
  }
  std::vector<std::pair<proto::Bytes, std::optional<proto::Bytes>>> kvs;
  kvs.emplace_back(encode_key(GroupKey{g.id}), encode_group_value(v));
  return write(g.partition, std::move(kvs));
}

}  // namespace seedlog::broker::group
