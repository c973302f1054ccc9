#include "model/online/group_invariants.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace seedlog::model::online {

std::vector<std::pair<std::string, int32_t>> parse_partitions(std::string_view text) {
  std::vector<std::pair<std::string, int32_t>> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const size_t dash = item.rfind('-');
    int32_t p = 0;
    if (dash != std::string_view::npos && dash > 0) {
      auto [ptr, ec] = std::from_chars(item.data() + dash + 1, item.data() + item.size(), p);
      if (ec == std::errc() && ptr == item.data() + item.size()) out.emplace_back(std::string(item.substr(0, dash)), p);
    }
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

bool GroupInvariants::has(std::string_view invariant) const {
  return std::any_of(violations_.begin(), violations_.end(), [&](const Violation& v) { return v.invariant == invariant; });
}

void GroupInvariants::report(const sim::TraceEvent& e, std::string invariant, std::string detail) {
  if (!reported_.insert(invariant + "|" + detail).second) return;
  violations_.push_back(Violation{std::move(invariant), std::move(detail), e.time, std::string(e.node_name)});
}

void GroupInvariants::observe(const sim::TraceEvent& e) {
  if (!e.kind.starts_with("group.")) return;
  ++events_;
  Group& g = groups_[std::string(e.get_str("group"))];
  const std::string member(e.get_str("member"));
  if (e.kind == "group.member.assigned") {
    on_assigned(e, g);
  } else if (e.kind == "group.member.revoked") {
    auto& mine = g.owned[member];
    for (const Partition& p : parse_partitions(e.get_str("partitions"))) mine.erase(p);
  } else if (e.kind == "group.member.removed") {
    g.owned.erase(member);
  } else if (e.kind == "group.commit.accepted") {
    on_commit(e, g);
  }
}

void GroupInvariants::on_assigned(const sim::TraceEvent& e, Group& g) {
  const std::string member(e.get_str("member"));
  for (const Partition& p : parse_partitions(e.get_str("partitions"))) {
    for (const auto& [other, parts] : g.owned) {
      if (other != member && parts.count(p) != 0) {
        report(e, "single-owner",
               fmt::format("group {}: {}-{} assigned to {} in generation {} while {} still owns it", e.get_str("group"),
                           p.first, p.second, member, e.get_i64("generation"), other));
      }
    }
    g.owned[member].insert(p);
    g.last_owner[p] = member;
  }
}

void GroupInvariants::on_commit(const sim::TraceEvent& e, Group& g) {
  const std::string member(e.get_str("member"));
  const int64_t generation = e.get_i64("generation");
  if (member.empty() && generation < 0) return;  // a commit outside group management
  const int64_t current = e.get_i64("current_generation");
  if (generation != current) {
    report(e, "commit-generation",
           fmt::format("group {}: commit by {} with generation {} accepted while the group is at generation {}",
                       e.get_str("group"), member, generation, current));
  }
  const Partition p{std::string(e.get_str("topic")), static_cast<int32_t>(e.get_i64("partition"))};
  auto it = g.owned.find(member);
  const bool owns = it != g.owned.end() && it->second.count(p) != 0;
  auto last = g.last_owner.find(p);
  const bool let_go_in_flight = last != g.last_owner.end() && last->second == member && generation == current;
  if (!owns && !let_go_in_flight) {
    report(e, "commit-by-owner",
           fmt::format("group {}: commit of {}-{} at offset {} accepted from {}, which does not own it", e.get_str("group"),
                       p.first, p.second, e.get_i64("offset"), member));
  }
}

}  // namespace seedlog::model::online
