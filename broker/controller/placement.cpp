#include "broker/controller/placement.hpp"

#include <algorithm>
#include <map>

#include "sim/assert.hpp"

namespace seedlog::broker::controller {

namespace {

// Brokers ordered so that consecutive ones are on different racks when racks exist: rack by rack,
// taking one broker from each in turn.
std::vector<BrokerId> rack_interleaved(const std::vector<metadata::BrokerInfo>& usable) {
  std::map<std::string, std::vector<BrokerId>> by_rack;
  for (const auto& b : usable) by_rack[b.rack].push_back(b.id);
  for (auto& [rack, ids] : by_rack) std::sort(ids.begin(), ids.end());
  std::vector<BrokerId> out;
  for (size_t round = 0; out.size() < usable.size(); ++round) {
    for (auto& [rack, ids] : by_rack) {
      if (round < ids.size()) out.push_back(ids[round]);
    }
  }
  return out;
}

}  // namespace

std::vector<std::vector<BrokerId>> assign_replicas(const std::vector<metadata::BrokerInfo>& usable, int32_t partitions,
                                                   int32_t first_partition, int16_t replication_factor, uint64_t start) {
  SL_ASSERT(replication_factor > 0);
  SL_ASSERT(static_cast<size_t>(replication_factor) <= usable.size());
  const std::vector<BrokerId> ring = rack_interleaved(usable);
  const size_t n = ring.size();
  std::vector<std::vector<BrokerId>> out;
  for (int32_t p = 0; p < partitions; ++p) {
    const size_t first = (start + static_cast<size_t>(first_partition + p)) % n;
    // The shift between replicas varies with the partition, so followers spread as leaders do.
    const size_t shift = 1 + (start / n + static_cast<size_t>(first_partition + p) / n) % std::max<size_t>(1, n - 1);
    std::vector<BrokerId> replicas;
    for (int16_t r = 0; r < replication_factor; ++r) {
      size_t idx = (first + (r == 0 ? 0 : shift + static_cast<size_t>(r - 1))) % n;
      while (std::find(replicas.begin(), replicas.end(), ring[idx]) != replicas.end()) idx = (idx + 1) % n;
      replicas.push_back(ring[idx]);
    }
    SL_ASSERT(replicas.size() == static_cast<size_t>(replication_factor));
    out.push_back(std::move(replicas));
  }
  return out;
}

std::vector<BrokerId> shrink_isr(const std::vector<BrokerId>& isr, const std::set<BrokerId>& gone) {
  std::vector<BrokerId> out;
  for (BrokerId b : isr) {
    if (!gone.count(b)) out.push_back(b);
  }
  if (out.empty() && !isr.empty()) out.push_back(isr.back());  // the last member stays
  return out;
}

Election elect(const metadata::PartitionInfo& p, const std::function<bool(BrokerId)>& alive, bool allow_unclean) {
  std::set<BrokerId> gone;
  for (BrokerId b : p.replicas) {
    if (!alive(b)) gone.insert(b);
  }
  Election e;
  e.isr = shrink_isr(p.isr, gone);
  // A leader that can still serve keeps its partition: elections move leadership only when needed.
  if (p.leader != metadata::kNoLeader && alive(p.leader) &&
      std::find(e.isr.begin(), e.isr.end(), p.leader) != e.isr.end()) {
    e.leader = p.leader;
    return e;
  }
  for (BrokerId b : p.replicas) {
    if (alive(b) && std::find(e.isr.begin(), e.isr.end(), b) != e.isr.end()) {
      e.leader = b;
      return e;
    }
  }
  if (allow_unclean) {
    for (BrokerId b : p.replicas) {
      if (alive(b)) {
        e.leader = b;
        e.isr = {b};
        e.unclean = true;
        return e;
      }
    }
  }
  return e;  // no leader: the partition is offline until an ISR member returns
}

}  // namespace seedlog::broker::controller
