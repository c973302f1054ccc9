#include "broker/group/assignors.hpp"

#include <algorithm>
#include <set>

#include "sim/assert.hpp"

namespace seedlog::broker::group {

std::string_view to_string(AssignorKind k) {
  switch (k) {
    case AssignorKind::range: return "range";
    case AssignorKind::roundrobin: return "roundrobin";
    case AssignorKind::cooperative_sticky: return "cooperative-sticky";
  }
  return "?";
}

std::optional<AssignorKind> parse_assignor(std::string_view name) {
  for (AssignorKind k : {AssignorKind::range, AssignorKind::roundrobin, AssignorKind::cooperative_sticky}) {
    if (to_string(k) == name) return k;
  }
  return std::nullopt;
}

bool is_cooperative(AssignorKind k) { return k == AssignorKind::cooperative_sticky; }

namespace {

bool subscribes(const Subscription& s, const std::string& topic) {
  return std::find(s.topics.begin(), s.topics.end(), topic) != s.topics.end();
}

// Every partition of every topic some member subscribes to, sorted.
std::vector<TopicPartition> subscribed_partitions(const PartitionCounts& partitions, const Subscriptions& members) {
  std::vector<TopicPartition> out;
  for (const auto& [name, n] : partitions) {
    const std::string& topic = name;  // clang 14 cannot capture a structured binding
    const bool wanted = std::any_of(members.begin(), members.end(), [&](const auto& m) { return subscribes(m.second, topic); });
    for (int32_t p = 0; wanted && p < n; ++p) out.push_back({topic, p});
  }
  return out;
}

AssignmentMap empty_map(const Subscriptions& members) {
  AssignmentMap out;
  for (const auto& [id, s] : members) out[id];
  return out;
}

AssignmentMap range(const PartitionCounts& partitions, const Subscriptions& members) {
  AssignmentMap out = empty_map(members);
  for (const auto& [topic, n] : partitions) {
    std::vector<std::string> subs;
    for (const auto& [id, s] : members) {
      if (subscribes(s, topic)) subs.push_back(id);  // already sorted: members is a map
    }
    if (subs.empty()) continue;
    const int32_t m = static_cast<int32_t>(subs.size());
    const int32_t each = n / m;
    const int32_t extra = n % m;
    int32_t next = 0;
    for (int32_t i = 0; i < m; ++i) {
      const int32_t take = each + (i < extra ? 1 : 0);
      auto& parts = out[subs[static_cast<size_t>(i)]][topic];
      for (int32_t k = 0; k < take; ++k) parts.push_back(next++);
      if (parts.empty()) out[subs[static_cast<size_t>(i)]].erase(topic);
    }
    SL_ASSERT(next == n);
  }
  return out;
}

AssignmentMap roundrobin(const PartitionCounts& partitions, const Subscriptions& members) {
  AssignmentMap out = empty_map(members);
  std::vector<std::string> ids;
  for (const auto& [id, s] : members) ids.push_back(id);
  size_t turn = 0;
  for (const TopicPartition& tp : subscribed_partitions(partitions, members)) {
    // Bounded: some member subscribes to tp.topic, so at most ids.size() steps find it.
    for (size_t step = 0; step < ids.size(); ++step, ++turn) {
      const std::string& id = ids[turn % ids.size()];
      if (!subscribes(members.at(id), tp.topic)) continue;
      out[id][tp.topic].push_back(tp.partition);
      ++turn;
      break;
    }
  }
  return out;
}

// Who owns each partition now, as the members report it: a partition two members claim goes to
// the one with the newer generation (the other is a zombie's stale claim), ties to the first id.
std::map<TopicPartition, std::string> current_owners(const PartitionCounts& partitions, const Subscriptions& members) {
  std::map<TopicPartition, std::pair<int32_t, std::string>> best;
  for (const auto& [id, s] : members) {
    for (const TopicPartition& tp : flatten(s.owned)) {
      auto count = partitions.find(tp.topic);
      if (count == partitions.end() || tp.partition >= count->second || !subscribes(s, tp.topic)) continue;
      auto it = best.find(tp);
      if (it == best.end() || s.generation.value() > it->second.first) best[tp] = {s.generation.value(), id};
    }
  }
  std::map<TopicPartition, std::string> out;
  for (const auto& [tp, claim] : best) out[tp] = claim.second;
  return out;
}

AssignmentMap cooperative_sticky(const PartitionCounts& partitions, const Subscriptions& members) {
  const std::vector<TopicPartition> all = subscribed_partitions(partitions, members);
  const std::map<TopicPartition, std::string> owners = current_owners(partitions, members);
  const size_t m = members.size();
  const size_t floor_quota = all.size() / m;
  size_t extras = all.size() % m;
  std::map<std::string, std::vector<TopicPartition>> owned;
  for (const auto& [tp, id] : owners) owned[id].push_back(tp);
  // Members with the most owned first, so the extra slots go to those who would otherwise give up.
  std::vector<std::string> by_owned;
  for (const auto& [id, s] : members) by_owned.push_back(id);
  std::stable_sort(by_owned.begin(), by_owned.end(),
                   [&](const std::string& a, const std::string& b) { return owned[a].size() > owned[b].size(); });
  std::map<std::string, std::vector<TopicPartition>> kept;
  std::set<TopicPartition> taken;
  for (const std::string& id : by_owned) {
    size_t quota = floor_quota;
    if (owned[id].size() > floor_quota && extras > 0) {
      ++quota;
      --extras;
    }
    for (size_t i = 0; i < owned[id].size() && i < quota; ++i) {
      kept[id].push_back(owned[id][i]);
      taken.insert(owned[id][i]);
    }
  }
  // The rest goes, one at a time, to the subscribed member with the fewest (ties: lowest id).
  for (const TopicPartition& tp : all) {
    if (taken.count(tp)) continue;
    const std::string* pick = nullptr;
    for (const auto& [id, s] : members) {
      if (!subscribes(s, tp.topic)) continue;
      if (pick == nullptr || kept[id].size() < kept[*pick].size()) pick = &id;
    }
    if (pick == nullptr) continue;
    kept[*pick].push_back(tp);
    taken.insert(tp);
  }
  // The incremental protocol: a partition still owned by someone else waits for its revocation.
  AssignmentMap out = empty_map(members);
  for (const auto& [id, tps] : kept) {
    std::vector<TopicPartition> now;
    for (const TopicPartition& tp : tps) {
      auto owner = owners.find(tp);
      if (owner == owners.end() || owner->second == id) now.push_back(tp);
    }
    out[id] = group_by_topic(now);
  }
  return out;
}

// assignor-overlap: the first assigned partition is handed to a second member as well.
void plant_overlap(AssignmentMap& out) {
  if (out.size() < 2) return;
  for (auto it = out.begin(); it != out.end(); ++it) {
    if (it->second.empty()) continue;
    const TopicPartition first = flatten(it->second).front();
    auto other = std::next(it) == out.end() ? out.begin() : std::next(it);
    std::vector<TopicPartition> tps = flatten(other->second);
    tps.push_back(first);
    other->second = group_by_topic(tps);
    return;
  }
}

}  // namespace

AssignmentMap assign(AssignorKind kind, const PartitionCounts& partitions, const Subscriptions& members,
                     AssignOptions options) {
  if (members.empty()) return {};
  AssignmentMap out;
  switch (kind) {
    case AssignorKind::range: out = range(partitions, members); break;
    case AssignorKind::roundrobin: out = roundrobin(partitions, members); break;
    case AssignorKind::cooperative_sticky: out = cooperative_sticky(partitions, members); break;
  }
  if (options.overlap_defect) plant_overlap(out);
  SL_ASSERT(out.size() == members.size());
  return out;
}

}  // namespace seedlog::broker::group
