#include "model/online/replication_invariants.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace seedlog::model::online {

namespace {

constexpr size_t kAdvancesKept = 256;

// The next decimal number of a comma-separated list from `at`, which it moves past the number's
// comma. False at the end of the list. Non-numbers parse as 0, as the lists come from the broker's
// own events.
bool next_number(std::string_view text, size_t& at, int64_t& out) {
  if (at >= text.size()) return false;
  const size_t comma = std::min(text.find(',', at), text.size());
  out = 0;
  std::from_chars(text.data() + at, text.data() + comma, out);
  at = comma + 1;
  return true;
}

}  // namespace

bool ReplicationInvariants::has(std::string_view invariant) const {
  return std::any_of(violations_.begin(), violations_.end(), [&](const Violation& v) { return v.invariant == invariant; });
}

void ReplicationInvariants::report(const sim::TraceEvent& e, std::string invariant, std::string detail) {
  if (!reported_.insert(invariant + "|" + detail).second) return;
  violations_.push_back(Violation{std::move(invariant), std::move(detail), e.time, std::string(e.node_name)});
}

void ReplicationInvariants::allow(const sim::TraceEvent& e, std::string reason, std::string detail) {
  allowed_.push_back(AllowedLoss{std::move(reason), std::move(detail), e.time, std::string(e.node_name)});
}

ReplicationInvariants::BatchMap::Iterator ReplicationInvariants::BatchMap::lower_bound(int64_t base) {
  if (entries_.empty() || entries_.back().first < base) return entries_.end();  // the usual case: past the end
  return std::lower_bound(entries_.begin(), entries_.end(), base,
                          [](const Entry& entry, int64_t b) { return entry.first < b; });
}

std::pair<ReplicationInvariants::BatchMap::Iterator, bool> ReplicationInvariants::BatchMap::try_emplace(int64_t base,
                                                                                                       const Batch& b) {
  auto it = lower_bound(base);
  if (it != entries_.end() && it->first == base) return {it, false};
  return {entries_.insert(it, Entry{base, b}), true};
}

void ReplicationInvariants::observe(const sim::TraceEvent& e) {
  if (e.kind.starts_with("node.")) return on_node(e);
  if (e.kind == "metadata.partition") {
    if (e.get_u64("unclean") != 0) {
      partitions_[{std::string(e.get_str("topic")), static_cast<int32_t>(e.get_i64("partition"))}].unclean_epochs.insert(
          static_cast<int32_t>(e.get_i64("leader_epoch")));
    }
    return;
  }
  const bool replica = e.kind.starts_with("replica.");
  if (!replica && e.kind != "broker.registered") return;
  if (auto id = node_ids_.find(e.node_name); id == node_ids_.end() || id->second != e.node.value()) {
    node_ids_[std::string(e.node_name)] = e.node.value();
  }
  Node& n = nodes_[e.node.value()];
  n.up = true;
  if (e.kind == "broker.registered") {
    n.broker_epoch = e.get_i64("broker_epoch");
    return;
  }
  const Key key{std::string(e.get_str("topic")), static_cast<int32_t>(e.get_i64("partition"))};
  if (e.kind == "replica.open") return on_open(e, n, key);
  Replica& r = n.replicas[key];
  if (e.kind == "replica.role") on_role(e, r, key);
  else if (e.kind == "replica.append") on_append(e, r);
  else if (e.kind == "replica.truncate") on_truncate(e, r);
  else if (e.kind == "replica.hw") on_hw(e, r, key);
  else if (e.kind == "replica.produce") on_produce(e, r, key);
}

void ReplicationInvariants::on_node(const sim::TraceEvent& e) {
  auto id = node_ids_.find(e.get_str("node"));
  if (id == node_ids_.end()) return;  // a node that never emitted replication events
  Node& n = nodes_[id->second];
  if (e.kind == "node.start") {
    n.up = true;
    n.broker_epoch = -1;  // a new process registers anew
    for (auto& [key, r] : n.replicas) {
      r.role = "none";  // the new process has not taken a role yet
      r.max_role_epoch = -1;
      r.leader_hw = -1;
      r.hw_epoch = -1;
      r.advances.clear();
    }
  } else if (e.kind == "node.kill") {
    n.up = false;
  } else if (e.kind == "node.power_loss") {
    n.up = false;
    n.power_lost = true;
  } else if (e.kind == "node.wipe_disk") {
    n.power_lost = true;  // as far as the logs are concerned, everything unsynced and more is gone
  }
}

void ReplicationInvariants::on_open(const sim::TraceEvent& e, Node& n, const Key& key) {
  Replica& r = n.replicas[key];
  const int64_t end = e.get_i64("log_end");
  // The recovered log is a prefix of what the node last held (truncations are durable, so nothing
  // older can come back); batches past the recovered end are gone.
  if (n.power_lost && end < r.log_end) r.lost_power = true;
  r.log.erase_from(end);
  if (!r.log.empty() && r.log.back().second.last >= end) r.log.pop_back();
  r.log_end = end;
  r.hw = e.get_i64("hw");
  r.compared_upto = std::min(r.compared_upto, end);
  r.role = "none";
}

void ReplicationInvariants::on_role(const sim::TraceEvent& e, Replica& r, const Key& key) {
  r.role = std::string(e.get_str("role"));
  r.leader_epoch = static_cast<int32_t>(e.get_i64("leader_epoch"));
  if (r.leader_epoch < r.max_role_epoch) {
    report(e, "replica-epoch-monotonic", fmt::format("{}/{}: took role {} at leader epoch {} after epoch {}", key.first,
                                                     key.second, r.role, r.leader_epoch, r.max_role_epoch));
  }
  r.max_role_epoch = std::max(r.max_role_epoch, r.leader_epoch);
  if (r.role != "leader") return;
  PartitionView& p = partitions_[key];
  if (r.log_end >= p.max_hw) {
    r.lost_power = false;  // it holds the whole committed prefix again
    return;
  }
  const std::string detail = fmt::format("{}/{}: new leader at epoch {} ends at offset {}, but offsets up to {} were committed",
                                         key.first, key.second, r.leader_epoch, r.log_end, p.max_hw);
  if (p.unclean_epochs.count(r.leader_epoch) != 0) {
    allow(e, "unclean election", detail);
  } else if (r.lost_power) {
    allow(e, "power loss beyond the fault budget", detail);
  } else {
    report(e, "leader-completeness", detail);
  }
  // Either way the old history above the new leader's log ends here; later commits follow the new one.
  end_history_at(key, p, r.log_end);
  r.lost_power = false;
}

void ReplicationInvariants::end_history_at(const Key& key, PartitionView& p, int64_t end) {
  p.committed.erase_from(end);
  if (!p.committed.empty() && p.committed.back().second.last >= end) p.committed.pop_back();
  p.max_hw = std::min(p.max_hw, end);
  // What replicas still hold above the end was compared with the old history only: compare it
  // again with the new one once their HWs cover it (KIP-101's scenario 2 diverges exactly there).
  for (auto& [id, node] : nodes_) {
    auto r = node.replicas.find(key);
    if (r != node.replicas.end()) r->second.compared_upto = std::min(r->second.compared_upto, end);
  }
}

void ReplicationInvariants::on_append(const sim::TraceEvent& e, Replica& r) {
  const int64_t first = e.get_i64("first_offset");
  const int64_t last = e.get_i64("last_offset");
  r.log.erase_from(first);
  (void)r.log.try_emplace(first, Batch{last, static_cast<uint32_t>(e.get_u64("crc")), static_cast<int32_t>(e.get_i64("leader_epoch"))});
  r.log_end = last + 1;
}

void ReplicationInvariants::on_truncate(const sim::TraceEvent& e, Replica& r) {
  const int64_t to = e.get_i64("to");
  r.log.erase_from(to);
  r.log_end = to;
  if (e.find("restart_at") != nullptr) r.log.clear();
  r.compared_upto = std::min(r.compared_upto, to);
  r.hw = std::min(r.hw, to);
}

void ReplicationInvariants::on_hw(const sim::TraceEvent& e, Replica& r, const Key& key) {
  const int64_t hw = e.get_i64("hw");
  const int32_t epoch = static_cast<int32_t>(e.get_i64("leader_epoch"));
  if (e.get_str("role") == "leader") {
    ++hw_checks_;
    if (r.hw_epoch == epoch && hw < r.leader_hw) {
      report(e, "hw-monotonic", fmt::format("{}/{} at leader epoch {}: the leader's HW went from {} to {}", key.first,
                                            key.second, epoch, r.leader_hw, hw));
    }
    r.hw_epoch = epoch;
    r.leader_hw = hw;
    const size_t counted = check_isr_members(e, key, hw, epoch);
    r.advances.push_back(HwAdvance{hw, counted});
    if (r.advances.size() > kAdvancesKept) r.advances.pop_front();
  }
  r.hw = hw;
  PartitionView& p = partitions_[key];
  p.max_hw = std::max(p.max_hw, hw);
  commit(e, r, key);
}

// Returns how many ISR members the advance counted. Parses the lists in place: this runs on every
// leader HW move.
size_t ReplicationInvariants::check_isr_members(const sim::TraceEvent& e, const Key& key, int64_t hw, int32_t epoch) {
  const std::string_view members = e.get_str("isr");
  const std::string_view epochs = e.get_str("isr_epochs");
  size_t counted = 0;
  size_t at_member = 0;
  size_t at_epoch = 0;
  int64_t member = 0;
  int64_t broker_epoch = 0;
  while (next_number(members, at_member, member)) {
    ++counted;
    if (!next_number(epochs, at_epoch, broker_epoch)) continue;  // fewer epochs than members: nothing to compare
    if (static_cast<uint32_t>(member) == e.node.value()) continue;  // the leader's own log is the LEO
    auto node = nodes_.find(static_cast<uint32_t>(member));
    if (node == nodes_.end() || !node->second.up || node->second.broker_epoch != broker_epoch) continue;  // moved on
    auto rep = node->second.replicas.find(key);
    if (rep == node->second.replicas.end() || rep->second.role != "follower" || rep->second.leader_epoch != epoch) continue;
    if (rep->second.log_end < hw) {
      report(e, "hw-above-isr-member", fmt::format("{}/{}: leader HW {} at epoch {}, but ISR member {} ends at {}", key.first,
                                                   key.second, hw, epoch, member, rep->second.log_end));
    }
  }
  return counted;
}

void ReplicationInvariants::commit(const sim::TraceEvent& e, Replica& r, const Key& key) {
  PartitionView& p = partitions_[key];
  for (auto it = r.log.lower_bound(r.compared_upto); it != r.log.end() && it->second.last < r.hw; ++it) {
    const int64_t base = it->first;
    const Batch& b = it->second;
    auto [c, fresh] = p.committed.try_emplace(base, b);
    ++committed_batches_;
    if (!fresh && (c->second.crc != b.crc || c->second.last != b.last)) {
      report(e, "committed-divergence",
             fmt::format("{}/{} offset {}: this replica holds [{}, {}] crc {:08x} epoch {} below its HW {}, but [{}, {}] crc "
                         "{:08x} epoch {} was committed there",
                         key.first, key.second, base, base, b.last, b.crc, b.epoch, r.hw, base, c->second.last, c->second.crc,
                         c->second.epoch));
    }
    r.compared_upto = b.last + 1;
  }
}

void ReplicationInvariants::on_produce(const sim::TraceEvent& e, Replica& r, const Key& key) {
  if (e.get_i64("acks") != -1 || e.get_str("error") != "NONE") return;
  ++acks_checked_;
  const int64_t last = e.get_i64("last_offset");
  auto where = [&] { return fmt::format("{}/{} offsets [{}, {}]", key.first, key.second, e.get_i64("first_offset"), last); };
  if (r.hw <= last) {
    report(e, "ack-before-commit", fmt::format("{}: acks=all answered while the leader's HW is {}", where(), r.hw));
    return;
  }
  const int64_t min_insync = e.get_i64("min_insync");
  for (const HwAdvance& a : r.advances) {
    if (a.hw <= last) continue;
    if (static_cast<int64_t>(a.counted) < min_insync) {
      report(e, "ack-below-min-insync", fmt::format("{}: committed by a HW advance to {} that counted {} replicas, "
                                                    "min.insync.replicas is {}", where(), a.hw, a.counted, min_insync));
    }
    break;
  }
}

}  // namespace seedlog::model::online
