// The leader's decisions, without a cluster: the HW rule, ISR shrink and expand, pending changes.
#include "broker/replication/leader_state.hpp"

#include <gtest/gtest.h>

#include "broker/replication/replica_manager.hpp"

namespace seedlog::broker::replication {
namespace {

using namespace sim::literals;

const BrokerId k1{1}, k2{2}, k3{3};
const BrokerEpoch kE2{20}, kE3{30};
const sim::Instant t0 = sim::Instant() + 100_s;

LeaderState leader(std::vector<BrokerId> isr, Offset epoch_start = Offset{10}) {
  return LeaderState(k1, LeaderEpoch{5}, epoch_start, std::move(isr), PartitionEpoch{7}, t0);
}

auto all_live = [](BrokerId, BrokerEpoch) { return true; };

TEST(LeaderState, HwIsTheMinimumLogEndOverTheIsr) {
  LeaderState s = leader({k1, k2, k3});
  s.on_fetch(k2, Offset{12}, kE2, Offset{20}, t0);
  s.on_fetch(k3, Offset{15}, kE3, Offset{20}, t0);
  const HwCandidate c = s.hw_candidate(Offset{20}, 2, false);
  ASSERT_TRUE(c.hw.has_value());
  EXPECT_EQ(*c.hw, Offset{12});
  EXPECT_EQ(c.counted.size(), 3u);
  EXPECT_EQ(c.counted_epochs, (std::vector<BrokerEpoch>{BrokerEpoch{-1}, kE2, kE3}));
}

TEST(LeaderState, AMemberThatHasNotFetchedInThisEpochBlocksTheHw) {
  LeaderState s = leader({k1, k2, k3});
  s.on_fetch(k2, Offset{20}, kE2, Offset{20}, t0);
  const HwCandidate c = s.hw_candidate(Offset{20}, 1, false);
  EXPECT_FALSE(c.hw.has_value());
  EXPECT_NE(c.why.find("has not fetched"), std::string::npos) << c.why;
}

TEST(LeaderState, NoHwBelowMinInsyncUnlessTheDefectIgnoresIt) {
  LeaderState s = leader({k1});
  EXPECT_FALSE(s.hw_candidate(Offset{20}, 2, false).hw.has_value());
  const HwCandidate ignored = s.hw_candidate(Offset{20}, 2, true);
  ASSERT_TRUE(ignored.hw.has_value()) << "unclean-isr-of-one ignores min.insync.replicas";
  EXPECT_EQ(*ignored.hw, Offset{20});
}

TEST(LeaderState, APendingChangeCountsTheUnionAndTheSmallerSize) {
  LeaderState s = leader({k1, k2, k3});
  s.on_fetch(k2, Offset{20}, kE2, Offset{20}, t0);
  s.on_fetch(k3, Offset{11}, kE3, Offset{20}, t0);
  s.set_pending({k1, k2});  // a shrink of k3: k3 still counts until the controller answers
  EXPECT_EQ(s.effective_isr().size(), 3u);
  EXPECT_EQ(*s.hw_candidate(Offset{20}, 2, false).hw, Offset{11});
  EXPECT_EQ(s.isr_size_for_min_insync(), 2u);
  EXPECT_FALSE(s.hw_candidate(Offset{20}, 3, false).hw.has_value()) << "the proposed ISR is below min.insync";
  EXPECT_TRUE(s.apply_committed({k1, k2}, PartitionEpoch{8}));
  EXPECT_FALSE(s.pending().has_value());
  EXPECT_EQ(*s.hw_candidate(Offset{20}, 2, false).hw, Offset{20});
}

TEST(LeaderState, StaleCommittedStatesAreIgnored) {
  LeaderState s = leader({k1, k2});
  s.set_pending({k1});
  EXPECT_FALSE(s.apply_committed({k1, k2, k3}, PartitionEpoch{7}));
  EXPECT_TRUE(s.pending().has_value());
  EXPECT_TRUE(s.apply_committed({k1}, PartitionEpoch{9}));
  EXPECT_FALSE(s.apply_committed({k1, k2}, PartitionEpoch{8})) << "an answer older than the metadata";
  EXPECT_EQ(s.isr(), std::vector<BrokerId>{k1});
}

TEST(LeaderState, AFollowerLeavesTheIsrAfterTheLagTime) {
  LeaderState s = leader({k1, k2, k3});
  s.on_fetch(k2, Offset{20}, kE2, Offset{20}, t0 + 9_s);
  s.on_fetch(k3, Offset{12}, kE3, Offset{20}, t0 + 9_s);  // fetching, but never caught up
  EXPECT_FALSE(s.isr_proposal({k1, k2, k3}, Offset{12}, t0 + 10_s, 10_s, all_live).has_value());
  auto p = s.isr_proposal({k1, k2, k3}, Offset{12}, t0 + 10_s + 1_ms, 10_s, all_live);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, (std::vector<BrokerId>{k1, k2}));
}

TEST(LeaderState, CaughtUpCountsFromThePreviousFetchWhenItReachedThatEnd) {
  LeaderState s = leader({k1, k2});
  s.on_fetch(k2, Offset{15}, kE2, Offset{20}, t0 + 5_s);   // leader at 20
  s.on_fetch(k2, Offset{20}, kE2, Offset{30}, t0 + 14_s);  // reached 20: caught up as of 5 s
  EXPECT_EQ(s.follower(k2)->last_caught_up, t0 + 5_s);
  EXPECT_TRUE(s.isr_proposal({k1, k2}, Offset{20}, t0 + 16_s, 10_s, all_live).has_value()) << "5 s + lag passed";
  s.on_fetch(k2, Offset{30}, kE2, Offset{30}, t0 + 15_s);
  EXPECT_EQ(s.follower(k2)->last_caught_up, t0 + 15_s);
}

TEST(LeaderState, AFollowerJoinsOnlyCaughtUpToHwAndEpochStartAndLive) {
  LeaderState s = leader({k1, k2}, Offset{18});
  s.on_fetch(k2, Offset{20}, kE2, Offset{20}, t0);
  EXPECT_FALSE(s.isr_proposal({k1, k2, k3}, Offset{20}, t0, 10_s, all_live).has_value()) << "k3 never fetched";
  s.on_fetch(k3, Offset{17}, kE3, Offset{20}, t0);
  EXPECT_FALSE(s.isr_proposal({k1, k2, k3}, Offset{16}, t0, 10_s, all_live).has_value()) << "below the epoch start";
  s.on_fetch(k3, Offset{19}, kE3, Offset{20}, t0);
  EXPECT_FALSE(s.isr_proposal({k1, k2, k3}, Offset{20}, t0, 10_s, all_live).has_value()) << "below the HW";
  auto dead = [](BrokerId b, BrokerEpoch) { return b != k3; };
  s.on_fetch(k3, Offset{20}, kE3, Offset{20}, t0);
  EXPECT_FALSE(s.isr_proposal({k1, k2, k3}, Offset{20}, t0, 10_s, dead).has_value()) << "fenced or stale broker epoch";
  auto p = s.isr_proposal({k1, k2, k3}, Offset{20}, t0, 10_s, all_live);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, (std::vector<BrokerId>{k1, k2, k3}));
  s.set_pending(*p);
  EXPECT_FALSE(s.isr_proposal({k1, k2, k3}, Offset{20}, t0, 10_s, all_live).has_value()) << "one change at a time";
}

TEST(LeaderState, ANewIncarnationStartsWithoutAPosition) {
  LeaderState s = leader({k1, k2});
  s.on_fetch(k2, Offset{20}, kE2, Offset{20}, t0);
  s.on_fetch(k2, Offset{3}, BrokerEpoch{99}, Offset{20}, t0 + 1_s);
  EXPECT_EQ(s.follower(k2)->log_end, Offset{3});
  EXPECT_EQ(s.follower(k2)->broker_epoch, BrokerEpoch{99});
  EXPECT_EQ(s.follower(k2)->last_caught_up, t0) << "not caught up as of the old incarnation's fetch";
}

TEST(ReplicaIdentity, TheClientIdCarriesTheBrokerEpoch) {
  EXPECT_EQ(replica_client_id(BrokerId{3}, BrokerEpoch{42}), "replica-3-epoch-42");
  EXPECT_EQ(parse_replica_client_id(std::string("replica-3-epoch-42"), BrokerId{3}), BrokerEpoch{42});
  EXPECT_FALSE(parse_replica_client_id(std::string("replica-3-epoch-42"), BrokerId{4}).has_value());
  EXPECT_FALSE(parse_replica_client_id(std::string("replica-3-epoch-"), BrokerId{3}).has_value());
  EXPECT_FALSE(parse_replica_client_id(std::string("replica-3-epoch-4x"), BrokerId{3}).has_value());
  EXPECT_FALSE(parse_replica_client_id(std::nullopt, BrokerId{3}).has_value());
}

}  // namespace
}  // namespace seedlog::broker::replication
