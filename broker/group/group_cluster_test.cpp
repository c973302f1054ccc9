// Consumer groups over a simulated cluster: membership, rebalances, offsets, coordinator failover.
#include <gtest/gtest.h>

#include "broker/group/testing.hpp"

namespace seedlog::broker::group {
namespace {

using testing::GroupCluster;
using Offsets = client::OffsetMap;

std::vector<TopicPartition> all_of(const std::string& topic, int32_t n) {
  std::vector<TopicPartition> out;
  for (int32_t p = 0; p < n; ++p) out.push_back({topic, p});
  return out;
}

// Each member commits offset 100 + partition for what it owns.
void commit_owned(GroupCluster& t, const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    Offsets offsets;
    for (const TopicPartition& tp : flatten(t.assignment(n))) offsets[tp] = protocol::Offset{100 + tp.partition};
    ASSERT_TRUE(t.commit(n, offsets).ok()) << n;
  }
}

void expect_committed(GroupCluster& t, const std::string& asker, int32_t partitions) {
  auto got = t.committed(asker, all_of("t", partitions));
  ASSERT_TRUE(got.has_value());
  for (int32_t p = 0; p < partitions; ++p) EXPECT_EQ(got->at({"t", p}), protocol::Offset{100 + p}) << "t-" << p;
}

TEST(Groups, FourPartitionsAndTwoMembersGiveTwoEach) {
  GroupCluster t({.nodes = 3, .seed = 1});
  t.start().create_topic("t", 4, 3);
  t.add_member("a").add_member("b");
  ASSERT_TRUE(t.run_until_balanced({"a", "b"}, "t", 4));
  EXPECT_EQ(t.assignment("a"), (TopicPartitions{{"t", {0, 1}}}));
  EXPECT_EQ(t.assignment("b"), (TopicPartitions{{"t", {2, 3}}}));
  EXPECT_TRUE(t.invariants().violations().empty());
}

TEST(Groups, AThirdMemberJoinsAndTheGroupRebalances) {
  GroupCluster t({.nodes = 3, .seed = 2});
  t.start().create_topic("t", 4, 3);
  t.add_member("a").add_member("b");
  ASSERT_TRUE(t.run_until_balanced({"a", "b"}, "t", 4));
  const protocol::GenerationId before = t.member("a")->generation();
  t.add_member("c");
  ASSERT_TRUE(t.run_until_balanced({"a", "b", "c"}, "t", 4));
  EXPECT_GT(t.member("a")->generation(), before);
  EXPECT_EQ(count(t.assignment("a")) + count(t.assignment("b")) + count(t.assignment("c")), 4u);
  EXPECT_EQ(count(t.assignment("c")), 1u);
  EXPECT_TRUE(t.invariants().violations().empty());
}

TEST(Groups, ADeadMembersPartitionsMoveAndResumeFromCommittedOffsets) {
  GroupCluster t({.nodes = 3, .seed = 3});
  t.start().create_topic("t", 4, 3);
  t.add_member("a").add_member("b");
  ASSERT_TRUE(t.run_until_balanced({"a", "b"}, "t", 4));
  commit_owned(t, {"a", "b"});
  t.kill_member("a");
  ASSERT_TRUE(t.run_until_balanced({"b"}, "t", 4));
  EXPECT_EQ(count(t.assignment("b")), 4u);
  expect_committed(t, "b", 4);
  EXPECT_TRUE(t.invariants().violations().empty());
}

TEST(Groups, ALeavingMemberHandsOverWithoutWaitingForTheSession) {
  GroupCluster t({.nodes = 3, .seed = 4});
  t.start().create_topic("t", 4, 3);
  t.add_member("a").add_member("b");
  ASSERT_TRUE(t.run_until_balanced({"a", "b"}, "t", 4));
  t.close_member("a");
  // Well inside the 3 s session timeout: the LeaveGroup triggered the rebalance.
  ASSERT_TRUE(t.run_until_balanced({"b"}, "t", 4, sim::Duration::s(2)));
  EXPECT_TRUE(t.invariants().violations().empty());
}

TEST(Groups, OffsetCommitIsFencedByGenerationAndMember) {
  GroupCluster t({.nodes = 3, .seed = 5});
  t.start().create_topic("t", 2, 3);
  t.add_member("a");
  ASSERT_TRUE(t.run_until_balanced({"a"}, "t", 2));
  const client::CommitResult stranger = t.on_member<client::CommitResult>("a", [&] {
    client::GroupMemberConfig c = t.member_config({"t"});
    client::GroupMember m(t.env("a"), c);
    return m.commit_sync({{{"t", 0}, protocol::Offset{1}}});  // no member id, no generation
  });
  EXPECT_EQ(stranger.error, protocol::ErrorCode::unknown_member_id);
  EXPECT_TRUE(t.invariants().violations().empty());
}

TEST(Groups, TheCoordinatorDiesMidRebalanceAndTheGroupRecoversWithItsOffsets) {
  GroupCluster t({.nodes = 3, .seed = 6});
  t.start().create_topic("t", 4, 3);
  t.add_member("a").add_member("b");
  ASSERT_TRUE(t.run_until_balanced({"a", "b"}, "t", 4));
  commit_owned(t, {"a", "b"});
  const int coordinator = t.coordinator_of("g");
  auto loads = std::make_shared<std::vector<std::string>>();  // nodes that loaded the group from the log
  t.cluster().world().trace().subscribe([loads](const sim::TraceEvent& e) {
    if (e.kind == "group.load" && e.get_str("group") == "g") loads->emplace_back(e.node_name);
  });
  t.add_member("c");
  ASSERT_TRUE(t.cluster().run_until(
      [&] { return t.cluster().broker(coordinator)->groups().state("g") != std::optional<std::string_view>("Stable"); },
      sim::Duration::s(10)));
  t.cluster().kill(coordinator);  // the rebalance is under way
  ASSERT_TRUE(t.run_until_balanced({"a", "b", "c"}, "t", 4));
  EXPECT_NE(t.coordinator_of("g"), coordinator);
  EXPECT_EQ(loads->size(), 1u);
  expect_committed(t, "c", 4);
  t.cluster().restart(coordinator);
  EXPECT_TRUE(t.invariants().violations().empty());
}

TEST(Groups, CooperativeStickyMovesOnlyWhatItMust) {
  GroupCluster t({.nodes = 3, .seed = 7});
  t.start().create_topic("t", 4, 3);
  client::GroupMemberConfig c = t.member_config({"t"});
  c.assignor = AssignorKind::cooperative_sticky;
  t.add_member("a", c).add_member("b", c);
  ASSERT_TRUE(t.run_until_balanced({"a", "b"}, "t", 4));
  const TopicPartitions a_before = t.assignment("a");
  const TopicPartitions b_before = t.assignment("b");
  const size_t changes_before = t.changes().size();
  t.add_member("c", c);
  ASSERT_TRUE(t.run_until_balanced({"a", "b", "c"}, "t", 4));
  // a and b keep what they still own; exactly one partition was revoked and it went to c.
  EXPECT_TRUE(difference(t.assignment("a"), a_before).empty());
  EXPECT_TRUE(difference(t.assignment("b"), b_before).empty());
  size_t revoked = 0;
  for (size_t i = changes_before; i < t.changes().size(); ++i) {
    const auto& ch = t.changes()[i];
    if (ch.kind == "revoked") revoked += count(parse_topic_partitions(ch.partitions).value_or(TopicPartitions{}));
  }
  EXPECT_EQ(revoked, 1u);
  EXPECT_EQ(count(t.assignment("c")), 1u);
  EXPECT_TRUE(t.invariants().violations().empty());
}

TEST(Groups, PartitionsAddedToATopicReachTheGroup) {
  GroupCluster t({.nodes = 3, .seed = 8});
  t.start().create_topic("t", 4, 3);
  t.add_member("a").add_member("b");
  ASSERT_TRUE(t.run_until_balanced({"a", "b"}, "t", 4));
  ASSERT_TRUE(t.cluster().add_partitions("t", 6).ok());
  ASSERT_TRUE(t.run_until_balanced({"a", "b"}, "t", 6));
  EXPECT_EQ(count(t.assignment("a")), 3u);
  EXPECT_TRUE(t.invariants().violations().empty());
}

TEST(Groups, ASubscriptionChangeRebalances) {
  GroupCluster t({.nodes = 3, .seed = 10});
  t.start().create_topic("t", 2, 3).create_topic("u", 2, 3);
  t.add_member("a").add_member("b");
  ASSERT_TRUE(t.run_until_balanced({"a", "b"}, "t", 2));
  const protocol::GenerationId before = t.member("b")->generation();
  t.member("b")->subscribe({"t", "u"});
  ASSERT_TRUE(t.run_until_balanced({"b"}, "u", 2));  // only b reads u
  ASSERT_TRUE(t.run_until_balanced({"a", "b"}, "t", 2));
  EXPECT_GT(t.member("b")->generation(), before);
  EXPECT_EQ(t.assignment("b").at("u"), (std::vector<int32_t>{0, 1}));
  EXPECT_TRUE(t.invariants().violations().empty());
}

TEST(Groups, RoundRobinSpreadsTwoTopics) {
  GroupCluster t({.nodes = 3, .seed = 9});
  t.start().create_topic("t", 3, 3).create_topic("u", 3, 3);
  client::GroupMemberConfig c = t.member_config({"t", "u"});
  c.assignor = AssignorKind::roundrobin;
  t.add_member("a", c).add_member("b", c);
  ASSERT_TRUE(t.run_until_balanced({"a", "b"}, "u", 3));
  EXPECT_EQ(count(t.assignment("a")), 3u);
  EXPECT_EQ(count(t.assignment("b")), 3u);
  EXPECT_TRUE(t.invariants().violations().empty());
}

}  // namespace
}  // namespace seedlog::broker::group
