// Online invariants of consumer groups, checked at every event. Fed from trace events only (the
// coordinator's group.* and the members' group.member.* and group.commit.*; docs/groups.md lists
// their fields), so it judges any implementation that emits them.
//
//   single-owner       at any moment at most one member of a group owns a partition. A member
//                      owns what it was assigned (group.member.assigned) until it revokes it
//                      (group.member.revoked) or the coordinator removes it from the group
//                      (group.member.removed: a dead or evicted member's belief no longer counts,
//                      as its commits are fenced from then on).
//   commit-by-owner    an OffsetCommit the coordinator accepts (group.commit.accepted) comes from a
//                      member that owns the partition now, or that owned it last and let it go
//                      while the commit was in flight, with nobody assigned it since (the next
//                      owner joins a later generation, so it reads that commit or the commit is
//                      fenced as stale) ...
//   commit-generation  ... and carries the group's current generation.
//
// Commits outside group management (no member id, no generation) are not judged.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "model/online/metadata_invariants.hpp"
#include "sim/trace.hpp"

namespace seedlog::model::online {

class GroupInvariants {
 public:
  void observe(const sim::TraceEvent& e);
  const std::vector<Violation>& violations() const { return violations_; }
  bool has(std::string_view invariant) const;
  uint64_t events_checked() const { return events_; }

 private:
  using Partition = std::pair<std::string, int32_t>;
  struct Group {
    std::map<std::string, std::set<Partition>> owned;  // member -> partitions
    std::map<Partition, std::string> last_owner;       // survives revocation (see on_commit)
  };
  void on_assigned(const sim::TraceEvent& e, Group& g);
  void on_commit(const sim::TraceEvent& e, Group& g);
  void report(const sim::TraceEvent& e, std::string invariant, std::string detail);

  std::map<std::string, Group> groups_;
  std::set<std::string> reported_;
  std::vector<Violation> violations_;
  uint64_t events_ = 0;
};

// "t-0,t-1" -> {("t", 0), ("t", 1)}; malformed items are skipped.
std::vector<std::pair<std::string, int32_t>> parse_partitions(std::string_view text);

}  // namespace seedlog::model::online
