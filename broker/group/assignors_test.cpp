#include "broker/group/assignors.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

namespace seedlog::broker::group {
namespace {

Subscriptions members_of(int n, const std::vector<std::string>& topics) {
  Subscriptions out;
  for (int i = 0; i < n; ++i) out["m" + std::to_string(i)] = Subscription{topics, {}, {}, protocol::GenerationId{-1}};
  return out;
}

// How many members hold each partition.
std::map<TopicPartition, int> holders(const AssignmentMap& plan) {
  std::map<TopicPartition, int> out;
  for (const auto& [id, tps] : plan) {
    for (const TopicPartition& tp : flatten(tps)) ++out[tp];
  }
  return out;
}

bool each_exactly_once(const AssignmentMap& plan, const PartitionCounts& counts) {
  const auto h = holders(plan);
  size_t total = 0;
  for (const auto& [t, n] : counts) {
    total += static_cast<size_t>(n);
    for (int32_t p = 0; p < n; ++p) {
      auto it = h.find({t, p});
      if (it == h.end() || it->second != 1) return false;
    }
  }
  return h.size() == total;
}

std::pair<size_t, size_t> min_max(const AssignmentMap& plan) {
  size_t lo = SIZE_MAX, hi = 0;
  for (const auto& [id, tps] : plan) {
    lo = std::min(lo, count(tps));
    hi = std::max(hi, count(tps));
  }
  return {lo, hi};
}

TEST(Assignors, RangeGivesFourPartitionsToTwoMembersTwoEach) {
  const AssignmentMap plan = assign(AssignorKind::range, {{"t", 4}}, members_of(2, {"t"}));
  EXPECT_EQ(plan.at("m0"), (TopicPartitions{{"t", {0, 1}}}));
  EXPECT_EQ(plan.at("m1"), (TopicPartitions{{"t", {2, 3}}}));
}

TEST(Assignors, RangeGivesTheExtraPartitionsToTheFirstMembers) {
  const AssignmentMap plan = assign(AssignorKind::range, {{"t", 5}}, members_of(3, {"t"}));
  EXPECT_EQ(plan.at("m0"), (TopicPartitions{{"t", {0, 1}}}));
  EXPECT_EQ(plan.at("m1"), (TopicPartitions{{"t", {2, 3}}}));
  EXPECT_EQ(plan.at("m2"), (TopicPartitions{{"t", {4}}}));
}

TEST(Assignors, RoundRobinDealsInTurn) {
  const AssignmentMap plan = assign(AssignorKind::roundrobin, {{"t", 3}, {"u", 2}}, members_of(2, {"t", "u"}));
  EXPECT_EQ(plan.at("m0"), (TopicPartitions{{"t", {0, 2}}, {"u", {1}}}));
  EXPECT_EQ(plan.at("m1"), (TopicPartitions{{"t", {1}}, {"u", {0}}}));
}

TEST(Assignors, OverlapDefectGivesOnePartitionToTwoMembers) {
  const AssignmentMap plan = assign(AssignorKind::range, {{"t", 4}}, members_of(2, {"t"}), {.overlap_defect = true});
  EXPECT_EQ(holders(plan).at({"t", 0}), 2);
}

TEST(Assignors, CooperativeStickyHoldsBackAPartitionUntilItsOwnerRevokes) {
  // m0 owns everything; m1 joins. First rebalance: m0 keeps two, m1 gets nothing yet.
  Subscriptions subs = members_of(2, {"t"});
  subs["m0"].owned = {{"t", {0, 1, 2, 3}}};
  subs["m0"].generation = protocol::GenerationId{1};
  const AssignmentMap first = assign(AssignorKind::cooperative_sticky, {{"t", 4}}, subs);
  EXPECT_EQ(count(first.at("m0")), 2u);
  EXPECT_TRUE(first.at("m1").empty());
  // Second rebalance, after m0 revoked what it lost: m1 gets the two released partitions.
  subs["m0"].owned = first.at("m0");
  subs["m0"].generation = protocol::GenerationId{2};
  const AssignmentMap second = assign(AssignorKind::cooperative_sticky, {{"t", 4}}, subs);
  EXPECT_EQ(second.at("m0"), first.at("m0"));
  EXPECT_EQ(count(second.at("m1")), 2u);
  EXPECT_TRUE(each_exactly_once(second, {{"t", 4}}));
}

// A few topics with partition counts (call inside a property).
PartitionCounts any_counts() {
  const size_t topics = *rc::gen::inRange<size_t>(1, 4);
  const auto ns = *rc::gen::container<std::vector<int32_t>>(topics, rc::gen::inRange(1, 13));
  PartitionCounts out;
  for (size_t i = 0; i < ns.size(); ++i) out["t" + std::to_string(i)] = ns[i];
  return out;
}

std::vector<std::string> topics_of(const PartitionCounts& counts) {
  std::vector<std::string> out;
  for (const auto& [t, n] : counts) out.push_back(t);
  return out;
}

RC_GTEST_PROP(AssignorProps, EveryPartitionToExactlyOneMember, ()) {
  const PartitionCounts counts = any_counts();
  const int m = *rc::gen::inRange(1, 8);
  const auto kind = *rc::gen::element(AssignorKind::range, AssignorKind::roundrobin, AssignorKind::cooperative_sticky);
  const AssignmentMap plan = assign(kind, counts, members_of(m, topics_of(counts)));
  RC_ASSERT(plan.size() == static_cast<size_t>(m));
  RC_ASSERT(each_exactly_once(plan, counts));
}

RC_GTEST_PROP(AssignorProps, RoundRobinAndStickyBalanceWithinOne, ()) {
  const PartitionCounts counts = any_counts();
  const int m = *rc::gen::inRange(1, 8);
  for (AssignorKind kind : {AssignorKind::roundrobin, AssignorKind::cooperative_sticky}) {
    const auto [lo, hi] = min_max(assign(kind, counts, members_of(m, topics_of(counts))));
    RC_ASSERT(hi - lo <= 1);
  }
}

// Stickiness: starting from a balanced assignment, members leave and join. Every surviving member
// keeps at least min(what it owned, its new floor quota); nothing owned by a survivor is handed to
// another member in the same generation; and the follow-up rebalance (after revocations) is
// balanced within one and covers every partition once.
RC_GTEST_PROP(AssignorProps, CooperativeStickyMovesOnlyWhatItMust, ()) {
  const PartitionCounts counts = any_counts();
  const int before = *rc::gen::inRange(1, 7);
  const std::vector<std::string> topics = topics_of(counts);
  Subscriptions subs = members_of(before, topics);
  const AssignmentMap initial = assign(AssignorKind::cooperative_sticky, counts, subs);
  for (auto& [id, s] : subs) {
    s.owned = initial.at(id);
    s.generation = protocol::GenerationId{1};
  }
  const int leaving = *rc::gen::inRange(0, before);
  const int joining = *rc::gen::inRange(leaving == before ? 1 : 0, 4);
  for (int i = 0; i < leaving; ++i) subs.erase("m" + std::to_string(i));
  for (int i = 0; i < joining; ++i) subs["n" + std::to_string(i)] = Subscription{topics, {}, {}, protocol::GenerationId{-1}};
  size_t total = 0;
  for (const auto& [t, n] : counts) total += static_cast<size_t>(n);
  const size_t floor_quota = total / subs.size();

  const AssignmentMap first = assign(AssignorKind::cooperative_sticky, counts, subs);
  for (const auto& [id, s] : subs) {
    const size_t kept = count(s.owned) - count(difference(s.owned, first.at(id)));
    RC_ASSERT(kept >= std::min(count(s.owned), floor_quota));
    for (const auto& [other, tps] : first) {
      if (other != id) RC_ASSERT(count(difference(s.owned, tps)) == count(s.owned));  // no theft
    }
  }
  for (auto& [id, s] : subs) {
    s.owned = first.at(id);  // each revoked what it lost
    s.generation = protocol::GenerationId{2};
  }
  const AssignmentMap second = assign(AssignorKind::cooperative_sticky, counts, subs);
  RC_ASSERT(each_exactly_once(second, counts));
  const auto [lo, hi] = min_max(second);
  RC_ASSERT(hi - lo <= 1);
  for (const auto& [id, s] : subs) RC_ASSERT(count(difference(s.owned, second.at(id))) == 0);  // nobody loses again
}

}  // namespace
}  // namespace seedlog::broker::group
