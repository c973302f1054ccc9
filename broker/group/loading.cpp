// Coordinator failover: following the roles of the offsets partitions, replaying a partition's log
// into groups when this broker starts leading it, dropping its groups when it stops.
#include <fmt/format.h>

#include "broker/group/consumer_protocol.hpp"
#include "broker/group/coordinator.hpp"
#include "broker/group/group_state.hpp"
#include "broker/protocol/record_batch.hpp"

namespace seedlog::broker::group {

namespace proto = seedlog::protocol;

void GroupCoordinator::follow_roles() {
  while (true) {
    reconcile_roles();
    (void)replicas_.roles_changed().wait_until(env_.deadline_after(sim::Duration::ms(500)));
  }
}

void GroupCoordinator::reconcile_roles() {
  const metadata::TopicInfo* topic = replicas_.image().topic(kOffsetsTopic);
  const int32_t n = topic ? static_cast<int32_t>(topic->partitions.size()) : 0;
  for (int32_t p = 0; p < n; ++p) {
    replication::Partition* replica = replicas_.partition(kOffsetsTopic, p);
    const bool leading = replica != nullptr && replica->role() == replication::Role::leader && replica->is_open();
    auto it = loads_.find(p);
    if (!leading) {
      if (it != loads_.end()) unload(p);
      continue;
    }
    if (it != loads_.end() && it->second.role_generation == replica->role_generation()) continue;
    if (it != loads_.end()) unload(p);  // a new leader epoch of ours: what we held may be stale
    const uint64_t generation = replica->role_generation();
    loads_[p] = Load{generation, false};
    env_.spawn(fmt::format("group-load-{}", p), [this, p, generation] { load(p, generation); });
  }
}

void GroupCoordinator::load(int32_t partition, uint64_t role_generation) {
  replication::Partition* p = replicas_.partition(kOffsetsTopic, partition);
  SL_ASSERT(p != nullptr);
  auto current = [&] {
    auto it = loads_.find(partition);
    return it != loads_.end() && it->second.role_generation == role_generation && p->role_generation() == role_generation;
  };
  // Serve only what is committed: wait until the HW covers the whole log this leader started with.
  const proto::Offset end = p->log_end();
  {
    replication::PartitionWatch watch(env_.scheduler(), {p});
    while (current() && p->high_watermark() < end) (void)watch.wait_until(env_.deadline_after(sim::Duration::ms(500)));
  }
  std::map<std::string, std::shared_ptr<Group>> loaded;
  if (!current() || !replay(partition, role_generation, loaded) || !current()) return;
  uint64_t offsets = 0;
  for (auto& [id, g] : loaded) {
    offsets += g->offsets.size();
    env_.emit("group.load", {{"group", id}, {"generation", g->generation.value()}, {"members", static_cast<uint64_t>(g->members.size())}});
    groups_[id] = std::move(g);
  }
  loads_[partition].done = true;
  env_.emit("group.loaded", {{"partition", partition}, {"groups", static_cast<uint64_t>(loaded.size())},
                             {"offsets", offsets}, {"end_offset", end.value()}});
  signal_.notify();
}

namespace {

void apply_group(Group& g, const GroupValue& v, sim::Instant now) {
  g.protocol_type = v.protocol_type;
  g.generation = v.generation;
  g.protocol = v.protocol;
  g.leader = v.leader;
  g.members.clear();
  for (const StoredMember& sm : v.members) {
    Member m;
    m.id = sm.member_id;
    m.client_id = sm.client_id;
    m.session_timeout_ms = sm.session_timeout_ms;
    m.rebalance_timeout_ms = sm.rebalance_timeout_ms;
    m.protocols.push_back({v.protocol, sm.subscription});
    m.assignment = sm.assignment;
    m.heartbeat_deadline = now + sim::Duration::ms(sm.session_timeout_ms);
    g.members[m.id] = std::move(m);
  }
  g.state = g.members.empty() ? GroupState::empty : GroupState::stable;
}

}  // namespace

// Replays the partition from its start up to the end it had when this leadership began (the
// last record for a key wins). False when the log failed or the role moved meanwhile.
bool GroupCoordinator::replay(int32_t partition, uint64_t role_generation, std::map<std::string, std::shared_ptr<Group>>& out) {
  replication::Partition* p = replicas_.partition(kOffsetsTopic, partition);
  std::shared_ptr<storage::Log> log = p->log();
  if (!log) return false;
  const proto::Offset end = p->high_watermark();
  proto::Offset next = p->log_start();
  auto group = [&](const std::string& id) -> Group& {
    auto& slot = out[id];
    if (!slot) {
      slot = std::make_shared<Group>();
      slot->id = id;
      slot->partition = partition;
    }
    return *slot;
  };
  while (next < end) {
    auto read = log->read(next, storage::ReadOptions{.max_bytes = 1 << 20, .max_offset = end});
    if (!read.ok() || p->role_generation() != role_generation) return false;
    auto split = proto::split_batches(read->records);
    if (!split.ok() || split->batches.empty()) break;
    for (const proto::RecordBatchView& view : split->batches) {
      auto batch = view.decode();
      if (!batch.ok()) return false;
      for (const proto::Record& r : batch->records) {
        if (!r.key) continue;
        auto key = decode_key(*r.key);
        if (!key.ok()) continue;  // not ours (a newer format): Kafka skips unknown keys too
        if (const auto* k = std::get_if<OffsetKey>(&key.value())) {
          auto v = r.value ? decode_offset_value(*r.value) : proto::Result<OffsetValue>(proto::DecodeError{});
          if (v.ok()) group(k->group).offsets[{k->topic, k->partition}] = v.value();
          else if (!r.value) group(k->group).offsets.erase({k->topic, k->partition});
        } else {
          const auto& gk = std::get<GroupKey>(key.value());
          auto v = r.value ? decode_group_value(*r.value) : proto::Result<GroupValue>(proto::DecodeError{});
          if (v.ok()) apply_group(group(gk.group), v.value(), env_.now());
        }
      }
    }
    if (read->next_offset <= next) break;
    next = read->next_offset;
  }
  return true;
}

void GroupCoordinator::unload(int32_t partition) {
  uint64_t dropped = 0;
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (it->second->partition != partition) {
      ++it;
      continue;
    }
    it->second->dead = true;
    it = groups_.erase(it);
    ++dropped;
  }
  loads_.erase(partition);
  env_.emit("group.unloaded", {{"partition", partition}, {"groups", dropped}});
  signal_.notify();
}

}  // namespace seedlog::broker::group
