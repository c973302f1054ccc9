#include "broker/controller/placement.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>

namespace seedlog::broker::controller {
namespace {

std::vector<metadata::BrokerInfo> brokers(int n, int racks = 0) {
  std::vector<metadata::BrokerInfo> out;
  for (int i = 1; i <= n; ++i) {
    metadata::BrokerInfo b;
    b.id = BrokerId{i};
    b.fenced = false;
    if (racks > 0) b.rack = "r" + std::to_string(i % racks);
    out.push_back(b);
  }
  return out;
}

RC_GTEST_PROP(Placement, ReplicasAreDistinctAndSpread, (uint64_t start)) {
  const int n = *rc::gen::inRange(1, 9);
  const int16_t rf = static_cast<int16_t>(*rc::gen::inRange(1, n + 1));
  const int32_t partitions = *rc::gen::inRange(1, 40);
  const auto a = assign_replicas(brokers(n), partitions, 0, rf, start);
  RC_ASSERT(a.size() == static_cast<size_t>(partitions));
  std::map<int32_t, int> leaders;
  for (const auto& replicas : a) {
    RC_ASSERT(replicas.size() == static_cast<size_t>(rf));
    RC_ASSERT(std::set<BrokerId>(replicas.begin(), replicas.end()).size() == replicas.size());
    ++leaders[replicas.front().value()];
  }
  // Leaders spread evenly: no broker leads more than its fair share rounded up.
  for (auto [b, count] : leaders) RC_ASSERT(count <= (partitions + n - 1) / n);
}

TEST(Placement, RacksAlternate) {
  const auto a = assign_replicas(brokers(6, 3), 6, 0, 3, 0);
  for (const auto& replicas : a) {
    std::set<std::string> racks;
    for (BrokerId b : replicas) racks.insert("r" + std::to_string(b.value() % 3));
    EXPECT_EQ(racks.size(), 3u) << "three replicas on three racks";
  }
}

metadata::PartitionInfo partition(std::vector<int> replicas, std::vector<int> isr, int leader) {
  metadata::PartitionInfo p;
  for (int r : replicas) p.replicas.emplace_back(r);
  for (int r : isr) p.isr.emplace_back(r);
  p.leader = BrokerId{leader};
  return p;
}

TEST(Placement, ElectionPicksTheFirstLiveIsrMemberInReplicaOrder) {
  auto p = partition({3, 1, 2}, {1, 2, 3}, 3);
  auto alive = [](BrokerId b) { return b.value() != 3; };
  Election e = elect(p, alive, false);
  EXPECT_EQ(e.leader, BrokerId{1});
  EXPECT_EQ(e.isr, (std::vector<BrokerId>{BrokerId{1}, BrokerId{2}}));
  EXPECT_FALSE(e.unclean);
}

TEST(Placement, AHealthyLeaderKeepsItsPartition) {
  auto p = partition({1, 2, 3}, {1, 2, 3}, 2);
  Election e = elect(p, [](BrokerId b) { return b.value() != 3; }, false);
  EXPECT_EQ(e.leader, BrokerId{2});
  EXPECT_EQ(e.isr.size(), 2u);
}

TEST(Placement, NoLiveIsrMemberMeansOfflineUnlessUnclean) {
  auto p = partition({1, 2, 3}, {1}, 1);
  auto alive = [](BrokerId b) { return b.value() != 1; };
  Election clean = elect(p, alive, false);
  EXPECT_EQ(clean.leader, metadata::kNoLeader);
  EXPECT_EQ(clean.isr, (std::vector<BrokerId>{BrokerId{1}})) << "the last ISR member stays";
  Election unclean = elect(p, alive, true);
  EXPECT_EQ(unclean.leader, BrokerId{2});
  EXPECT_EQ(unclean.isr, (std::vector<BrokerId>{BrokerId{2}}));
  EXPECT_TRUE(unclean.unclean);
}

TEST(Placement, ShrinkKeepsTheLastMember) {
  std::vector<BrokerId> isr{BrokerId{1}, BrokerId{2}};
  EXPECT_EQ(shrink_isr(isr, {BrokerId{2}}), (std::vector<BrokerId>{BrokerId{1}}));
  EXPECT_EQ(shrink_isr(isr, {BrokerId{1}, BrokerId{2}}), (std::vector<BrokerId>{BrokerId{2}}));
}

}  // namespace
}  // namespace seedlog::broker::controller
